namespace Qkd.Lab;

/// <summary>One refresh of `qkd monitor`: rates over the last interval, cumulative losses, and the live QBER.</summary>
/// <param name="Elapsed">Wall time since the monitor started.</param>
/// <param name="RatesHz">Tags per second of link (tagger) time per input channel over the last interval (index = channel).</param>
/// <param name="SyncRateHz">Sync tags per second.</param>
/// <param name="RingFill">Tags waiting in the acquisition ring, and its capacity.</param>
/// <param name="Dropped">Tags lost so far by any cause the stack counts (ring drops, device overflows, lost frames).</param>
/// <param name="QberZ">QBER of the Z basis since the start (sifted against the emission log), null before the first sifted bit.</param>
public sealed record MonitorSnapshot(TimeSpan Elapsed, IReadOnlyList<double> RatesHz, double SyncRateHz, int RingFill, int RingCapacity,
    long Dropped, long Overflows, double? QberZ, double? QberX, long Detections);
