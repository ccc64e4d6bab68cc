using Qkd.Lab.Run;

namespace Qkd.Lab.Drill;

/// <summary>What a detection source gets to see of one drill run: the run's report and when the attack started.</summary>
/// <param name="Report">The run as `qkd run --report` would write it (blocks carry their pulse ranges).</param>
/// <param name="OnsetSeconds">Link time the attack started.</param>
/// <param name="PulseRateHz">Alice's pulse rate, to turn pulse indices into link time.</param>
public sealed record DrillObservation(LinkReport Report, double OnsetSeconds, double PulseRateHz)
{
    /// <summary>Pulse index from which the attack ran.</summary>
    public long OnsetPulse => (long)Math.Round(OnsetSeconds * PulseRateHz);

    /// <summary>Link time of a pulse, seconds.</summary>
    public double SecondsOf(long pulse) => pulse / PulseRateHz;

    /// <summary>True when the block's key bits include pulses sent while the attack ran.</summary>
    public static bool Touched(BlockReport block, long onsetPulse) => block.LastPulse is long last && last >= onsetPulse;

    /// <summary>True when all of the block's key bits come from pulses sent while the attack ran.</summary>
    public static bool WhollyAttacked(BlockReport block, long onsetPulse) => block.FirstPulse is long first && first >= onsetPulse;
}
