using Qkd.Core.TimeTags;

namespace Qkd.Calibration;

/// <summary>
/// The pulse period as the receiver's clock sees it, measured from the sync tags: first to last sync over the pulses
/// between (each sync tag marks <see cref="SyncDivider"/> pulses). Measured rather than taken from the nominal rate
/// because the two clocks drift apart by parts per million, which over a capture is many bins.
/// </summary>
/// <param name="SyncChannel">The tagger input of the sync.</param>
/// <param name="SyncTags">Event tags on the sync channel.</param>
/// <param name="FirstSyncPs">Time of the first of them, ps (0 when there is none).</param>
/// <param name="LastSyncPs">Time of the last of them, ps (0 when there is none).</param>
/// <param name="SyncDivider">Pulses per sync tag.</param>
public readonly record struct SyncPeriod(ushort SyncChannel, long SyncTags, long FirstSyncPs, long LastSyncPs, int SyncDivider)
{
    /// <summary>Two sync tags at least: one interval to measure.</summary>
    public bool IsMeasured => SyncTags >= 2;

    /// <summary>The pulse period, ps; NaN unless <see cref="IsMeasured"/>.</summary>
    public double PulsePeriodPs => IsMeasured ? (double)(LastSyncPs - FirstSyncPs) / ((SyncTags - 1) * (double)SyncDivider) : double.NaN;

    /// <param name="tags">Time-ordered tags; only event tags on <paramref name="syncChannel"/> count.</param>
    public static SyncPeriod Measure(ReadOnlySpan<TimeTag> tags, ushort syncChannel, int syncDivider)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(syncDivider, 1);
        long syncs = 0, firstSync = 0, lastSync = 0;
        foreach (ref readonly var tag in tags)
        {
            if (tag.Channel != syncChannel || !tag.IsEvent) continue;
            if (syncs == 0) firstSync = tag.TimePs;
            lastSync = tag.TimePs;
            syncs++;
        }
        return new SyncPeriod(syncChannel, syncs, firstSync, lastSync, syncDivider);
    }
}
