namespace Qkd.Acquisition.Replay;

/// <summary>What a recorded input channel was connected to. Stored as one byte in the file header.</summary>
public enum TimeTagChannelRole : byte
{
    /// <summary>A single-photon detector.</summary>
    Detector = 0,
    /// <summary>Alice's clock (a sync pulse every N laser pulses), used by clock recovery.</summary>
    Sync = 1,
}
