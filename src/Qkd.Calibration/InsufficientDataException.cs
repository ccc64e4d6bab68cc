using System.Globalization;

namespace Qkd.Calibration;

/// <summary>
/// A fit or estimate refused because the data cannot support it: every quantity that fell short of its minimum
/// (<see cref="DataMinimums"/>), with what it had and what it needs. The lab commands turn it into one line and their
/// own exit code; nothing is written for a refused measurement. Thrown instead of returning a number that would be
/// noise with a small-looking uncertainty (a "delay" fitted from one tag).
/// </summary>
public sealed class InsufficientDataException : Exception
{
    public InsufficientDataException(IReadOnlyList<DataShortfall> shortfalls)
        : base(Describe(shortfalls))
    {
        Shortfalls = shortfalls;
    }

    public InsufficientDataException(DataShortfall shortfall) : this([shortfall])
    {
    }

    public InsufficientDataException() : this([new DataShortfall("measurement", "counts", 0, 1)])
    {
    }

    public InsufficientDataException(string message) : base(message)
    {
        Shortfalls = [];
    }

    public InsufficientDataException(string message, Exception innerException) : base(message, innerException)
    {
        Shortfalls = [];
    }

    /// <summary>Every quantity short of data, at least one.</summary>
    public IReadOnlyList<DataShortfall> Shortfalls { get; }

    /// <summary>How much more data (a longer capture) would meet every minimum; infinity when a quantity had none at all.</summary>
    public double MoreFactor => Shortfalls.Count == 0 ? double.NaN : Shortfalls.Max(s => s.MoreFactor);

    /// <summary>Throws when <paramref name="shortfalls"/> holds any (nulls, the quantities that had enough, are skipped).</summary>
    public static void ThrowIfAny(IEnumerable<DataShortfall?> shortfalls)
    {
        ArgumentNullException.ThrowIfNull(shortfalls);
        var list = shortfalls.Where(s => s is not null).Select(s => s!.Value).ToArray();
        if (list.Length > 0) throw new InsufficientDataException(list);
    }

    private static string Describe(IReadOnlyList<DataShortfall> shortfalls)
    {
        ArgumentNullException.ThrowIfNull(shortfalls);
        if (shortfalls.Count == 0) throw new ArgumentException("A refusal names at least one quantity short of data.", nameof(shortfalls));
        double factor = shortfalls.Max(s => s.MoreFactor);
        string more = double.IsPositiveInfinity(factor)
            ? "nothing was measured for at least one of them"
            : string.Create(CultureInfo.InvariantCulture, $"about {Math.Ceiling(factor * 10) / 10:0.#}x more data needed");
        // The furthest from their minimums first; a long list is cut, it still ends with the factor that meets them all.
        const int Shown = 4;
        var worst = shortfalls.OrderByDescending(s => s.MoreFactor).Take(Shown);
        string rest = shortfalls.Count > Shown ? $"; and {shortfalls.Count - Shown} more" : "";
        return $"not enough data: {string.Join("; ", worst)}{rest} ({more})";
    }
}
