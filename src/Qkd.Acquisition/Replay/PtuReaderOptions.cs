namespace Qkd.Acquisition.Replay;

/// <summary>
/// How PicoQuant inputs map onto our channel numbers. PicoQuant numbers detector inputs from 1 (PicoHarp router
/// channels 1-4; HydraHarp/MultiHarp inputs 1-64, stored as 0-63) and has a separate sync input.
/// </summary>
public sealed record PtuReaderOptions
{
    /// <summary>Most detector inputs any supported device has (MultiHarp 160: 64).</summary>
    public const int MaxDetectorInputs = 64;

    /// <summary>Channel given to the sync input: T2 sync records, and in T3 one tag per sync period that has events.</summary>
    public ushort SyncChannel { get; init; }

    /// <summary>Channel given to PicoQuant detector input 1; input k becomes FirstDetectorChannel + k - 1.</summary>
    public ushort FirstDetectorChannel { get; init; } = 1;

    /// <summary>
    /// T3 only: emit a sync tag (at nsync × sync period) before the first event of each sync period, so clock
    /// recovery sees Alice's clock. T3 files hold no record for sync periods without events, so these sync tags have
    /// gaps; clock recovery must expect that.
    /// </summary>
    public bool EmitSyncTagsInT3 { get; init; } = true;

    /// <summary>
    /// T3 only: most tags the reorder window holds while merging records by true time (sync time + dtime). Only the
    /// tags within one largest dtime of each other wait there (a few at any real count rate); the bound keeps a
    /// garbled file from growing it without end. 65,536 tags take 1.5 MB, allocated once.
    /// </summary>
    public int ReorderWindowTags { get; init; } = 1 << 16;

    internal void Validate()
    {
        if (ReorderWindowTags < 2)
            throw new ArgumentOutOfRangeException(nameof(ReorderWindowTags), ReorderWindowTags, "The reorder window must hold at least 2 tags (a sync and an event).");
        if (FirstDetectorChannel + MaxDetectorInputs - 1 > ushort.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(FirstDetectorChannel), FirstDetectorChannel,
                $"Detector inputs 1-{MaxDetectorInputs} must map below {ushort.MaxValue}.");
        if (SyncChannel >= FirstDetectorChannel && SyncChannel < FirstDetectorChannel + MaxDetectorInputs)
            throw new ArgumentException(
                $"Sync channel {SyncChannel} collides with detector channels {FirstDetectorChannel}-{FirstDetectorChannel + MaxDetectorInputs - 1}.",
                nameof(SyncChannel));
    }
}
