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

    internal void Validate()
    {
        if (FirstDetectorChannel + MaxDetectorInputs - 1 > ushort.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(FirstDetectorChannel), FirstDetectorChannel,
                $"Detector inputs 1-{MaxDetectorInputs} must map below {ushort.MaxValue}.");
        if (SyncChannel >= FirstDetectorChannel && SyncChannel < FirstDetectorChannel + MaxDetectorInputs)
            throw new ArgumentException(
                $"Sync channel {SyncChannel} collides with detector channels {FirstDetectorChannel}-{FirstDetectorChannel + MaxDetectorInputs - 1}.",
                nameof(SyncChannel));
    }
}
