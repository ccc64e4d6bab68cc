using Qkd.Core.TimeTags;

namespace Qkd.Calibration;

/// <summary>
/// Detector calibration from time tags: per detector channel, the click rate (the dark-count rate when the light is
/// blocked), the dead time, and the afterpulse probability and decay, all from the channel's click-to-next-click
/// histogram (<see cref="DetectorInterArrivalHistogram"/>, <see cref="DeadTimeEstimate"/>, <see cref="AfterpulseFit"/>).
/// Feed it time-ordered tag batches from any source (a live tagger, the emulator, a replay file) with <see cref="Add"/>,
/// then <see cref="Analyse"/>. Tags of other channels (sync, unused inputs) and falling edges are ignored; a tagger
/// overflow breaks every channel's interval chain, since the intervals across it are unknown.
/// </summary>
/// <remarks>Pure analysis: no devices, no files. <see cref="Add"/> allocates nothing per tag.</remarks>
public sealed class DetectorCalibration
{
    /// <summary>Default histogram window: 20 microseconds covers dead times and afterpulse tails of InGaAs and Si SPADs.</summary>
    public const long DefaultWindowPs = 20_000_000;

    private readonly DetectorInterArrivalHistogram[] _channels;
    private readonly int[] _indexOfChannel;

    /// <param name="channels">Tagger inputs of the detectors, distinct.</param>
    /// <param name="binWidthPs">Histogram bin width, ps: the pulse period for a gated detector (its intervals are whole periods).</param>
    /// <param name="windowPs">Longest interval histogrammed, ps.</param>
    public DetectorCalibration(IReadOnlyList<ushort> channels, long binWidthPs, long windowPs = DefaultWindowPs)
    {
        ArgumentNullException.ThrowIfNull(channels);
        if (channels.Count == 0) throw new ArgumentException("At least one detector channel is needed.", nameof(channels));
        if (channels.Distinct().Count() != channels.Count)
            throw new ArgumentException($"Detector channels must be distinct: {string.Join(", ", channels)}.", nameof(channels));
        _indexOfChannel = new int[channels.Max() + 1];
        Array.Fill(_indexOfChannel, -1);
        _channels = new DetectorInterArrivalHistogram[channels.Count];
        for (int i = 0; i < channels.Count; i++)
        {
            _channels[i] = new DetectorInterArrivalHistogram(channels[i], binWidthPs, windowPs);
            _indexOfChannel[channels[i]] = i;
        }
        BinWidthPs = binWidthPs;
    }

    public long BinWidthPs { get; }

    public IReadOnlyList<DetectorInterArrivalHistogram> Channels => _channels;

    /// <summary>Tagger overflows seen (each broke the interval chains).</summary>
    public long Overflows { get; private set; }

    /// <summary>Adds a batch of tags in time order.</summary>
    public void Add(ReadOnlySpan<TimeTag> tags)
    {
        int[] index = _indexOfChannel;
        DetectorInterArrivalHistogram[] channels = _channels;
        foreach (ref readonly TimeTag tag in tags)
        {
            if (tag.Kind == TimeTagKind.Rising)
            {
                if (tag.Channel < index.Length && index[tag.Channel] is int i and >= 0) channels[i].Add(tag.TimePs);
            }
            else if (tag.Kind == TimeTagKind.OverflowBegin)
            {
                Overflows++;
                foreach (var channel in channels) channel.Break();
            }
        }
    }

    /// <summary>Dead time, afterpulsing and rates of every channel.</summary>
    /// <param name="durationSeconds">Length of the capture (the rates' denominator), seconds.</param>
    /// <exception cref="InsufficientDataException">A channel's data cannot support one of its estimates (<see cref="DetectorChannelAnalysis.Shortfalls"/>).</exception>
    public IReadOnlyList<DetectorChannelAnalysis> Analyse(double durationSeconds)
    {
        if (!(durationSeconds > 0) || !double.IsFinite(durationSeconds))
            throw new ArgumentOutOfRangeException(nameof(durationSeconds), durationSeconds, "The capture must last a finite time > 0 s.");
        var results = new DetectorChannelAnalysis[_channels.Length];
        for (int i = 0; i < _channels.Length; i++)
        {
            var histogram = _channels[i];
            var deadTime = DeadTimeEstimate.Find(histogram);
            var afterpulses = AfterpulseFit.Fit(histogram, deadTime, durationSeconds * 1e12);
            double excess = double.IsFinite(afterpulses.ExcessCounts) ? Math.Max(0, afterpulses.ExcessCounts) : 0;
            double primaries = Math.Max(0, histogram.Clicks - excess);
            results[i] = new DetectorChannelAnalysis(histogram.Channel, histogram.Clicks, durationSeconds,
                histogram.Clicks / durationSeconds, Math.Sqrt(histogram.Clicks) / durationSeconds,
                primaries / durationSeconds, Math.Sqrt(primaries + excess) / durationSeconds,
                deadTime, afterpulses, histogram);
        }
        InsufficientDataException.ThrowIfAny(results.SelectMany(r => r.Shortfalls).Select(s => (DataShortfall?)s));
        return results;
    }
}

/// <summary>One detector channel's calibration.</summary>
/// <param name="ClickRateHz">All clicks per second.</param>
/// <param name="ClickRateUncertaintyHz">Poisson: sqrt(clicks) / duration.</param>
/// <param name="PrimaryRateHz">Clicks that are not afterpulses, per second: the dark-count rate when the light is blocked.</param>
/// <param name="PrimaryRateUncertaintyHz">Poisson, with the afterpulse subtraction's own counting error.</param>
public sealed record DetectorChannelAnalysis(
    ushort Channel, long Clicks, double DurationSeconds, double ClickRateHz, double ClickRateUncertaintyHz,
    double PrimaryRateHz, double PrimaryRateUncertaintyHz, DeadTimeEstimate DeadTime, AfterpulseFit Afterpulses,
    DetectorInterArrivalHistogram Histogram)
{
    /// <summary>
    /// The estimates this channel's data cannot support: a rate from fewer than <see cref="DataMinimums.RateClicks"/>
    /// clicks, a dead-time edge lower than <see cref="DataMinimums.DeadTimeLevelCounts"/> counts per bin, afterpulsing
    /// from fewer than <see cref="DataMinimums.AfterpulseIntervals"/> intervals. Empty when all are supported.
    /// </summary>
    public IEnumerable<DataShortfall> Shortfalls
    {
        get
        {
            DataShortfall?[] all =
            [
                DataShortfall.Check($"click rate of channel {Channel}", "clicks", Clicks, DataMinimums.RateClicks),
                DeadTime.Found ? null : new DataShortfall($"dead time of channel {Channel}", "counts per bin at the edge", DeadTime.LevelCounts, DataMinimums.DeadTimeLevelCounts),
                DataShortfall.Check($"afterpulsing of channel {Channel}", "click-to-next-click intervals", Histogram.Gaps, DataMinimums.AfterpulseIntervals),
            ];
            return all.Where(s => s is not null).Select(s => s!.Value);
        }
    }

    /// <summary>Afterpulses identified in the capture (the excess), never negative.</summary>
    public double AfterpulseCounts => double.IsFinite(Afterpulses.ExcessCounts) ? Math.Max(0, Afterpulses.ExcessCounts) : 0;
}
