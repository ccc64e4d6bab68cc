namespace Qkd.Calibration;

/// <summary>
/// One detector channel's clicks: how many, over what span, and the histogram of the time from each click to the next
/// click on the same channel (the start-stop autocorrelation a detector calibration reads dead time and afterpulsing
/// from). Bins are centred on multiples of the bin width (bin k holds gaps in [(k - 1/2) w, (k + 1/2) w)) so that a
/// gated detector's gaps, whole pulse periods plus jitter, fall in the middle of a bin when w is the period. Each bin
/// also keeps the sum of its gaps, so an edge can be located to better than a bin.
/// </summary>
/// <remarks>Fixed arrays sized once; <see cref="Add"/> allocates nothing.</remarks>
public sealed class DetectorInterArrivalHistogram
{
    private readonly long[] _counts;
    private readonly double[] _gapSumsPs;
    private long _lastTimePs;
    private bool _hasLast;

    /// <param name="channel">The tagger input.</param>
    /// <param name="binWidthPs">Histogram bin width, ps (the pulse period for a gated detector).</param>
    /// <param name="windowPs">Gaps up to this are histogrammed; longer ones are only counted.</param>
    public DetectorInterArrivalHistogram(ushort channel, long binWidthPs, long windowPs)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(binWidthPs, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(windowPs, binWidthPs * 8, nameof(windowPs));
        long bins = windowPs / binWidthPs;
        if (bins > 10_000_000)
            throw new ArgumentOutOfRangeException(nameof(windowPs), windowPs, $"A window of {windowPs} ps in bins of {binWidthPs} ps needs {bins} bins; at most 10 million.");
        Channel = channel;
        BinWidthPs = binWidthPs;
        _counts = new long[bins];
        _gapSumsPs = new double[bins];
        FirstTimePs = long.MaxValue;
        LastTimePs = long.MinValue;
    }

    public ushort Channel { get; }

    public long BinWidthPs { get; }

    public int BinCount => _counts.Length;

    /// <summary>Upper end of the last bin, ps.</summary>
    public double WindowPs => (_counts.Length - 0.5) * BinWidthPs;

    /// <summary>Clicks seen on the channel.</summary>
    public long Clicks { get; private set; }

    /// <summary>Click-to-next-click intervals measured (clicks minus one per unbroken stretch).</summary>
    public long Gaps { get; private set; }

    /// <summary>Intervals longer than the window (counted, not histogrammed).</summary>
    public long GapsBeyondWindow { get; private set; }

    /// <summary>Clicks earlier than the channel's previous click: not used as interval ends (the channel's tags must be in time order).</summary>
    public long OutOfOrder { get; private set; }

    /// <summary>Times the interval chain was broken on purpose (a tagger overflow: the next interval is unknown).</summary>
    public long Breaks { get; private set; }

    public long FirstTimePs { get; private set; }

    public long LastTimePs { get; private set; }

    /// <summary>Counts per bin; bin k is centred on k * <see cref="BinWidthPs"/>.</summary>
    public ReadOnlySpan<long> Counts => _counts;

    /// <summary>Sum of the gaps in each bin, ps.</summary>
    public ReadOnlySpan<double> GapSumsPs => _gapSumsPs;

    public double BinCentrePs(int bin) => (double)bin * BinWidthPs;

    /// <summary>Mean gap of the clicks in <paramref name="bin"/>, or its centre when empty.</summary>
    public double MeanGapPs(int bin) => _counts[bin] > 0 ? _gapSumsPs[bin] / _counts[bin] : BinCentrePs(bin);

    /// <summary>Records a click at <paramref name="timePs"/>.</summary>
    public void Add(long timePs)
    {
        if (_hasLast)
        {
            long gap = timePs - _lastTimePs;
            if (gap < 0)
            {
                OutOfOrder++;
                return;
            }
            Gaps++;
            long bin = (gap + BinWidthPs / 2) / BinWidthPs;
            if (bin < _counts.Length)
            {
                _counts[bin]++;
                _gapSumsPs[bin] += gap;
            }
            else GapsBeyondWindow++;
        }
        Clicks++;
        _lastTimePs = timePs;
        _hasLast = true;
        if (timePs < FirstTimePs) FirstTimePs = timePs;
        if (timePs > LastTimePs) LastTimePs = timePs;
    }

    /// <summary>Forgets the previous click: the next click starts a new chain (after tags were lost).</summary>
    public void Break()
    {
        if (_hasLast) Breaks++;
        _hasLast = false;
    }
}
