using Qkd.Hardware.Devices;
using Qkd.Protocol.Messages;

namespace Qkd.Hardware.Detector;

/// <summary>
/// A single-photon detector module with one or more heads (InGaAs SPADs, SNSPD channels): efficiency, gating, dead
/// time, cooling, count rates and the blinding alarm. Its clicks go to the time tagger as electrical pulses; this
/// interface is the control side only.
/// </summary>
public interface ISinglePhotonDetector : IDevice
{
    /// <summary>Number of heads.</summary>
    int Heads { get; }

    /// <summary>Detection efficiency of a head as a fraction (0.10 = 10%).</summary>
    double GetEfficiency(int head);

    void SetEfficiency(int head, double efficiency);

    long GetGateWidthPs(int head);

    void SetGateWidthPs(int head, long widthPs);

    long GetGateDelayPs(int head);

    void SetGateDelayPs(int head, long delayPs);

    long GetDeadTimePs(int head);

    void SetDeadTimePs(int head, long deadTimePs);

    /// <summary>Measured diode temperature, kelvin.</summary>
    double GetTemperatureKelvin();

    void SetTemperatureSetPointKelvin(double kelvin);

    /// <summary>Gated (true) or free-running operation.</summary>
    void SetGated(bool gated);

    /// <summary>Switches a head's bias on or off; the device refuses "on" while the interlock is open.</summary>
    void SetBiasEnabled(int head, bool enabled);

    /// <summary>Counts per head since the previous read.</summary>
    DetectorCounts ReadCounts();

    /// <summary>True when the last status showed the blinding alarm (bright light on the heads).</summary>
    bool BlindingAlarm { get; }
}
