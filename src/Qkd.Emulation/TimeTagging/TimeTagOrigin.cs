namespace Qkd.Emulation.TimeTagging;

/// <summary>What produced an emulated time tag (ground truth, for tests and diagnostics; a real tagger cannot know).</summary>
public enum TimeTagOrigin : byte
{
    /// <summary>A detector firing of the emulated link in a pulse slot: light, an in-slot dark count or an afterpulse.</summary>
    Detection = 0,

    /// <summary>A tag on the sync channel: Alice's clock divided down.</summary>
    Sync = 1,

    /// <summary>A free-running dark count of the tagger's detectors, at a uniformly random time (not tied to a pulse).</summary>
    FreeRunningDarkCount = 2,

    /// <summary>The active receiver's basis marker: the slot where Bob's basis pattern starts (pattern index 0).</summary>
    BasisMarker = 3,
}
