namespace Qkd.Acquisition;

/// <summary>
/// What <see cref="ClockRecovery"/> did with the tags it was given. Every tag that did not end up in a click is counted
/// under exactly one reason. A snapshot value.
/// </summary>
public struct ClockRecoveryCounters
{
    /// <summary>Tags given to <see cref="ClockRecovery.Process"/>.</summary>
    public long Tags;

    /// <summary>Sync tags accepted by the tracker.</summary>
    public long SyncTags;

    /// <summary>Sync tags rejected: too far from the predicted time, a duplicate, or going backwards.</summary>
    public long SyncAnomalies;

    /// <summary>Sync tags that should have come but did not (gaps bridged by the tracker).</summary>
    public long MissingSyncs;

    /// <summary>Times the tracker gave up after a run of anomalies and re-locked on the current sync tag.</summary>
    public long Relocks;

    /// <summary>Detector tags assigned to a pulse (each is in exactly one emitted click).</summary>
    public long AssignedTags;

    /// <summary>Assigned detector tags that joined a click already holding another detector of the same pulse.</summary>
    public long MergedTags;

    /// <summary>Detector tags outside the gate window (all detectors; per detector see <see cref="ClockRecovery.OutOfGate"/>).</summary>
    public long OutOfGate;

    /// <summary>Detector tags before the tracker locked, or that fall before pulse 0.</summary>
    public long BeforeLock;

    /// <summary>Detector tags folded to find the light's arrival phase (<see cref="ClockRecoveryOptions.ArrivalPhaseSearchTags"/>); once it is found they are
    /// assigned like any other tag (and counted again there: assigned, out of gate or before lock).</summary>
    public long PhaseSearchTags;

    /// <summary>Tags on a channel that is neither the sync nor a detector.</summary>
    public long UnknownChannel;

    /// <summary>Falling-edge tags, or tags of an unknown kind (ignored: clicks and sync are timed on the rising edge).</summary>
    public long FallingEdges;

    /// <summary>Tags earlier than the tag before them (the source broke its ordering contract).</summary>
    public long OutOfOrder;

    /// <summary>Detector tags for a pulse whose click had already been handed out (only if delays exceed their configuration).</summary>
    public long LateTags;

    /// <summary>Overflow periods the tagger reported (OverflowBegin tags).</summary>
    public long Overflows;

    /// <summary>Events the tagger reported lost in overflows (sum of OverflowEnd MissedEvents).</summary>
    public long OverflowMissedEvents;

    /// <summary>Basis-marker tags after the first (the first sets the pattern's start; later ones are ignored).</summary>
    public long ExtraBasisMarkers;

    /// <summary>The counters by camelCase name, for reports and metrics.</summary>
    public readonly IReadOnlyDictionary<string, long> ToDictionary() => new Dictionary<string, long>
    {
        ["tags"] = Tags,
        ["syncTags"] = SyncTags,
        ["syncAnomalies"] = SyncAnomalies,
        ["missingSyncs"] = MissingSyncs,
        ["relocks"] = Relocks,
        ["assignedTags"] = AssignedTags,
        ["mergedTags"] = MergedTags,
        ["outOfGate"] = OutOfGate,
        ["beforeLock"] = BeforeLock,
        ["phaseSearchTags"] = PhaseSearchTags,
        ["unknownChannel"] = UnknownChannel,
        ["fallingEdges"] = FallingEdges,
        ["outOfOrder"] = OutOfOrder,
        ["lateTags"] = LateTags,
        ["overflows"] = Overflows,
        ["overflowMissedEvents"] = OverflowMissedEvents,
        ["extraBasisMarkers"] = ExtraBasisMarkers,
    };
}
