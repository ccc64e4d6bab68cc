using Qkd.Core.TimeTags;

namespace Qkd.Calibration;

/// <summary>
/// Histogram of t_stop - t_start for event tags on a start and a stop channel, over time-sorted tags fed in batches
/// (<see cref="Add"/>). Bins of <see cref="BinWidthPs"/> cover [<see cref="MinPs"/>, <see cref="MaxPs"/>); bin i holds
/// differences in [min + i*w, min + (i+1)*w). One pass: recent starts (and, for negative ranges, recent stops) wait in
/// ring buffers that only keep tags still within reach of the range, so no allocation per tag (a ring doubles only
/// when more tags than ever before fall inside one range).
/// </summary>
/// <remarks>With start = stop (an autocorrelation) each unordered pair of distinct tags counts once, at its
/// non-negative difference; a tag is never paired with itself.</remarks>
public sealed class TimeDifferenceHistogram
{
    private readonly long[] _counts;
    private long[] _starts = new long[256];
    private int _startHead, _startCount;
    private long[] _stops = new long[256];
    private int _stopHead, _stopCount;
    private long _lastStart = long.MinValue;
    private bool _haveStart;
    private long _lastTime = long.MinValue;
    private long _lastStopTime = long.MinValue;
    private int _stopsAtLastTime;

    public TimeDifferenceHistogram(ushort startChannel, ushort stopChannel, long minPs, long maxPs, long binWidthPs,
        PairingMode mode = PairingMode.AllPairs)
    {
        if (binWidthPs < 1) throw new ArgumentOutOfRangeException(nameof(binWidthPs), binWidthPs, "The bin width must be at least 1 ps.");
        if (maxPs <= minPs) throw new ArgumentException($"The range [{minPs}, {maxPs}) ps is empty: max must exceed min.", nameof(maxPs));
        long bins = (maxPs - minPs + binWidthPs - 1) / binWidthPs;
        if (bins > 10_000_000) throw new ArgumentOutOfRangeException(nameof(binWidthPs), binWidthPs, $"{bins} bins: widen the bins or narrow the range (at most 1e7 bins).");
        if (mode == PairingMode.NearestStart && startChannel == stopChannel)
            throw new ArgumentException("Start-stop pairing needs two different channels; use AllPairs for an autocorrelation.", nameof(mode));
        StartChannel = startChannel;
        StopChannel = stopChannel;
        MinPs = minPs;
        BinWidthPs = binWidthPs;
        MaxPs = minPs + bins * binWidthPs;
        Mode = mode;
        _counts = new long[bins];
    }

    public ushort StartChannel { get; }
    public ushort StopChannel { get; }
    public long MinPs { get; }
    /// <summary>Upper end of the last bin (the requested max rounded up to whole bins).</summary>
    public long MaxPs { get; }
    public long BinWidthPs { get; }
    public PairingMode Mode { get; }

    public ReadOnlySpan<long> Counts => _counts;
    public int BinCount => _counts.Length;
    public long StartTags { get; private set; }
    public long StopTags { get; private set; }

    /// <summary>Pairs considered: in <see cref="PairingMode.NearestStart"/> every stop with an earlier start; otherwise the pairs in range.</summary>
    public long Pairs { get; private set; }
    /// <summary>Pairs below <see cref="MinPs"/> (start-stop only).</summary>
    public long BelowRange { get; private set; }
    /// <summary>Pairs at or above <see cref="MaxPs"/> (start-stop only).</summary>
    public long AboveRange { get; private set; }
    public long InRange { get; private set; }

    /// <summary>Left edge of bin <paramref name="bin"/>, ps.</summary>
    public long BinStartPs(int bin) => MinPs + bin * BinWidthPs;

    /// <summary>Centre of bin <paramref name="bin"/>, ps.</summary>
    public double BinCentrePs(int bin) => MinPs + (bin + 0.5) * BinWidthPs;

    /// <summary>Adds the next batch of tags (in non-decreasing time order, continuing the previous batch).</summary>
    /// <exception cref="ArgumentException">A tag is earlier than its predecessor.</exception>
    public void Add(ReadOnlySpan<TimeTag> tags)
    {
        foreach (ref readonly var tag in tags)
        {
            if (!tag.IsEvent) continue;
            long t = tag.TimePs;
            if (t < _lastTime) throw new ArgumentException($"Tags out of time order: {t} ps after {_lastTime} ps.", nameof(tags));
            _lastTime = t;
            bool isStart = tag.Channel == StartChannel, isStop = tag.Channel == StopChannel;
            if (!isStart && !isStop) continue;
            if (Mode == PairingMode.NearestStart)
            {
                if (isStop)
                {
                    StopTags++;
                    if (_haveStart) Count(t - _lastStart);
                }
                if (isStart)
                {
                    StartTags++;
                    _lastStart = t;
                    _haveStart = true;
                }
                continue;
            }
            if (isStop)
            {
                StopTags++;
                if (t != _lastStopTime) { _lastStopTime = t; _stopsAtLastTime = 0; }
                _stopsAtLastTime++;
                // Pairs whose start came first: difference >= 0 needs max > 0.
                if (MaxPs > 0)
                {
                    Expire(_starts, ref _startHead, ref _startCount, t - MaxPs);
                    for (int i = 0; i < _startCount; i++)
                    {
                        long d = t - _starts[(_startHead + i) & (_starts.Length - 1)];
                        if (d >= MinPs && d < MaxPs) Count(d);
                    }
                }
                if (MinPs < 0 && !isStart)
                {
                    Expire(_stops, ref _stopHead, ref _stopCount, t + MinPs);
                    Push(ref _stops, ref _stopHead, ref _stopCount, t);
                }
            }
            if (isStart)
            {
                StartTags++;
                // Pairs whose stop came first: difference <= 0, only when the range reaches below zero.
                if (MinPs < 0 && !isStop)
                {
                    Expire(_stops, ref _stopHead, ref _stopCount, t + MinPs);
                    for (int i = 0; i < _stopCount; i++)
                    {
                        long d = _stops[(_stopHead + i) & (_stops.Length - 1)] - t;
                        if (d >= MinPs && d < MaxPs) Count(d);
                    }
                }
                // Range starting at 0: a stop at this very time, read before this start, is a pair at difference 0.
                if (MinPs == 0 && !isStop && _lastStopTime == t) for (int i = 0; i < _stopsAtLastTime; i++) Count(0);
                if (MaxPs > 0)
                {
                    Expire(_starts, ref _startHead, ref _startCount, t - MaxPs);
                    Push(ref _starts, ref _startHead, ref _startCount, t);
                }
            }
        }
    }

    private void Count(long difference)
    {
        Pairs++;
        if (difference < MinPs) { BelowRange++; return; }
        if (difference >= MaxPs) { AboveRange++; return; }
        _counts[(difference - MinPs) / BinWidthPs]++;
        InRange++;
    }

    /// <summary>Drops buffered times earlier than <paramref name="oldest"/>: no later tag can pair with them in range.</summary>
    private static void Expire(long[] ring, ref int head, ref int count, long oldest)
    {
        int mask = ring.Length - 1;
        while (count > 0 && ring[head] < oldest)
        {
            head = (head + 1) & mask;
            count--;
        }
    }

    private static void Push(ref long[] ring, ref int head, ref int count, long time)
    {
        if (count == ring.Length)
        {
            var bigger = new long[ring.Length * 2];
            for (int i = 0; i < count; i++) bigger[i] = ring[(head + i) & (ring.Length - 1)];
            ring = bigger;
            head = 0;
        }
        ring[(head + count) & (ring.Length - 1)] = time;
        count++;
    }
}
