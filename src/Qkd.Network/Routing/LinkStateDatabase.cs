namespace Qkd.Network.Routing;

/// <summary>
/// The newest advertisement of every node this node has heard, with when it arrived. Thread-safe. An advertisement
/// replaces the stored one only if its sequence is higher (or the stored one has aged out), which is also the flooding
/// rule: a node passes on exactly the advertisements it accepted.
/// </summary>
public sealed class LinkStateDatabase(TimeProvider time, TimeSpan maxAge)
{
    private readonly Dictionary<string, (LinkStateAdvertisement Lsa, DateTimeOffset At)> _entries = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public TimeSpan MaxAge { get; } = maxAge;

    /// <summary>Stores <paramref name="lsa"/> if it is newer; true when it was (and should be flooded on).</summary>
    public bool Accept(LinkStateAdvertisement lsa)
    {
        if (lsa.AgeSeconds >= MaxAge.TotalSeconds) return false;
        lock (_lock)
        {
            if (_entries.TryGetValue(lsa.Origin, out var e) && e.Lsa.Sequence >= lsa.Sequence && !Expired(e)) return false;
            _entries[lsa.Origin] = (lsa, time.GetUtcNow());
            return true;
        }
    }

    /// <summary>The advertisement of <paramref name="origin"/> with its age brought up to now, or null (unknown or aged out).</summary>
    public LinkStateAdvertisement? Get(string origin)
    {
        lock (_lock)
        {
            if (!_entries.TryGetValue(origin, out var e) || Expired(e)) return null;
            return e.Lsa with { AgeSeconds = CurrentAge(e) };
        }
    }

    /// <summary>The sequence held for <paramref name="origin"/>, or -1.</summary>
    public long SequenceOf(string origin) => Get(origin)?.Sequence ?? -1;

    /// <summary>Every advertisement still in force, ages brought up to now.</summary>
    public IReadOnlyList<LinkStateAdvertisement> Snapshot()
    {
        lock (_lock)
        {
            return _entries.Values.Where(e => !Expired(e)).Select(e => e.Lsa with { AgeSeconds = CurrentAge(e) }).ToList();
        }
    }

    private int CurrentAge((LinkStateAdvertisement Lsa, DateTimeOffset At) e) =>
        (int)Math.Min(int.MaxValue, e.Lsa.AgeSeconds + Math.Max(0, (time.GetUtcNow() - e.At).TotalSeconds));

    private bool Expired((LinkStateAdvertisement Lsa, DateTimeOffset At) e) => CurrentAge(e) >= MaxAge.TotalSeconds;
}
