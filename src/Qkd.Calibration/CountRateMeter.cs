namespace Qkd.Calibration;

/// <summary>
/// Count rates from cumulative counters read at intervals: per channel, the counts since the previous reading over
/// the time between. Acquisition keeps running totals (cheap to read, nothing lost between readings); a rate is their
/// difference.
/// </summary>
public sealed class CountRateMeter
{
    private readonly long[] _previous;

    /// <param name="channels">Counters per reading, at most.</param>
    public CountRateMeter(int channels)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(channels);
        _previous = new long[channels];
    }

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
            rates[c] = (totals[c] - _previous[c]) / seconds;
            _previous[c] = totals[c];
        }
        return rates;
    }
}
