namespace Qkd.Core;

/// <summary>Unit conversions used across the stack. Names carry units (ps, dB, per second).</summary>
public static class Units
{
    public const long PicosecondsPerSecond = 1_000_000_000_000L;

    /// <summary>Power transmittance of an optical loss given in dB (3 dB -> ~0.5).</summary>
    public static double TransmittanceFromDb(double lossDb) => Math.Pow(10.0, -lossDb / 10.0);

    /// <summary>Optical loss in dB of a power transmittance in (0, 1].</summary>
    public static double DbFromTransmittance(double transmittance) => -10.0 * Math.Log10(transmittance);

    /// <summary>Pulse period in picoseconds for a clock rate in pulses per second.</summary>
    public static double PeriodPs(double pulseRateHz) => PicosecondsPerSecond / pulseRateHz;
}
