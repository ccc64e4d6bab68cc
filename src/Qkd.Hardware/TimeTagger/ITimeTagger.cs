using Qkd.Core.TimeTags;
using Qkd.Hardware.Devices;

namespace Qkd.Hardware.TimeTagger;

/// <summary>
/// A time tagger: stamps electrical pulses on its inputs (detectors, the transmitter's sync) with picosecond times and
/// streams the tags. As an <see cref="IBufferedTimeTagSource"/> it drains itself, on its own thread, into the one ring
/// between the tagger and clock recovery; the acquisition side reads that ring through <see cref="ITimeTagSource.Read"/>.
/// </summary>
public interface ITimeTagger : IDevice, IBufferedTimeTagSource
{
    /// <summary>The device's name (one name for both roles: device and tag source).</summary>
    new string Name { get; }

    int Channels { get; }

    void SetTriggerLevelVolts(int channel, double volts);

    /// <summary>Delay added to every tag of an input (cable compensation), ps.</summary>
    void SetInputDelayPs(int channel, long delayPs);

    long GetInputDelayPs(int channel);

    void SetSyncChannel(int channel);

    void SetChannelEnabled(int channel, bool enabled);

    /// <summary>Replaces an input by the internal periodic test signal (for checking a channel without light).</summary>
    void SetTestSignal(int channel, bool enabled);

    void SetTestSignalPeriodPs(long periodPs);

    /// <summary>Starts streaming; tags then come out of <see cref="ITimeTagSource.Read"/>.</summary>
    void StartStream();

    /// <summary>Stops streaming; <see cref="ITimeTagSource.Read"/> returns the tags already received, then 0.</summary>
    void StopStream();

    /// <summary>Stream health: tags, frames lost or duplicated, overflows the device reported.</summary>
    TimeTaggerStreamCounters StreamCounters { get; }
}
