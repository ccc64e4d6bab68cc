namespace Qkd.Protocol.Messages;

/// <summary>Device state bits in GetStatus and StatusChanged (firmware-protocols/framing.md, "Status").</summary>
[Flags]
public enum StatusFlags : uint
{
    None = 0,

    /// <summary>Initialised and able to work.</summary>
    Ready = 1 << 0,

    /// <summary>The safety interlock is open: laser emission and detector bias are off.</summary>
    InterlockOpen = 1 << 1,

    /// <summary>A hardware fault; the text of the last nack or the device log says which.</summary>
    Fault = 1 << 2,

    /// <summary>The tagger is streaming tags / the modulator is emitting.</summary>
    Running = 1 << 3,

    /// <summary>Data was lost since the last GetStatus (tagger FIFO overflow, modulator symbol underrun). Cleared by reading.</summary>
    DataLost = 1 << 4,

    /// <summary>Modulator: the bias control loop is locked.</summary>
    BiasLocked = 1 << 5,

    /// <summary>Detector: the cooler has reached its set point.</summary>
    TemperatureSettled = 1 << 6,

    /// <summary>Detector: bright light drove the heads out of Geiger mode (a blinding attack or a fault).</summary>
    BlindingAlarm = 1 << 7,
}
