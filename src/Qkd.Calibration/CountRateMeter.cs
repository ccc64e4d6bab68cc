namespace Qkd.Calibration;

/// <summary>
/// Count rates from cumulative counters read at intervals: per channel, the counts since the previous reading over
/// the time between. Acquisition keeps running totals (cheap to read, nothing lost between readings); a rate is their
/// difference.
/// </summary>
public sealed class CountRateMeter
{
    private readonly long[] _previous;
    private readonly long[] _lastCounts;

    /// <param name="channels">Counters per reading, at most.</param>
    public CountRateMeter(int channels)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(channels);
        _previous = new long[channels];
        _lastCounts = new long[channels];
    }

    /// <summary>Counts per channel in the interval of the last reading: the statistics behind its rates.</summary>
    public IReadOnlyList<long> LastCounts => _lastCounts;

    /// <summary>Length of the last reading's interval, s (0 before the first reading).</summary>
    public double LastIntervalSeconds { get; private set; }

    /// <summary>One standard deviation of a rate from <paramref name="counts"/> Poisson counts over <paramref name="seconds"/>: sqrt(n) / t.</summary>
    public static double Uncertainty(long counts, double seconds) =>
        seconds > 0 ? Math.Sqrt(Math.Max(0, counts)) / seconds : double.NaN;

    /// <summary>The uncertainty of the last reading's rate on <paramref name="channel"/>, per second.</summary>
    public double LastUncertainty(int channel) => Uncertainty(_lastCounts[channel], LastIntervalSeconds);

    /// <summary>Rates since the previous reading (or since zero, the first time), per second of <paramref name="seconds"/>; remembers this reading.</summary>
    /// <param name="totals">Cumulative counts per channel (index = channel), never decreasing.</param>
    /// <param name="seconds">Time since the previous reading, &gt; 0.</param>
    public double[] Rates(IReadOnlyList<long> totals, double seconds)
    {
        ArgumentNullException.ThrowIfNull(totals);
        if (totals.Count > _previous.Length)
            throw new ArgumentException($"{totals.Count} counters, more than the {_previous.Length} this meter keeps.", nameof(totals));
        if (!(seconds > 0)) throw new ArgumentOutOfRangeException(nameof(seconds), seconds, "The interval must be > 0 s.");
        var rates = new double[totals.Count];
        for (int c = 0; c < rates.Length; c++)
        {
            _lastCounts[c] = totals[c] - _previous[c];
            rates[c] = _lastCounts[c] / seconds;
            _previous[c] = totals[c];
        }
        LastIntervalSeconds = seconds;
        return rates;
    }
}
