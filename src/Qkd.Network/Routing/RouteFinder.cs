namespace Qkd.Network.Routing;

/// <summary>
/// Path choice over the link-state view: Dijkstra with a hop cost that grows as the hop's available key falls.
/// </summary>
/// <remarks>
/// The metric, for a relay that needs <c>need</c> bytes of link key on every hop (its keys plus 32 bytes of
/// authentication key): a directed link u→v is usable only if both ends advertise it up and u advertises at least
/// <c>need</c> bytes of key to send with on it; its cost is <c>1 + ScarcityWeight × need / available</c>. A hop costs
/// about 1 while its pool is deep, so the fewest trusted nodes win (each one sees the key in clear); as a pool drains
/// its hops grow dearer and relays move to other paths before it runs dry (with weight 8, a pool holding only twice
/// what the relay needs costs as much as five hops). Ties go to the path found first (node IDs in ordinal order).
/// </remarks>
public static class RouteFinder
{
    public const double ScarcityWeight = 8;

    /// <summary>The cost of one usable hop.</summary>
    public static double HopCost(long availableBytes, int needBytes) => 1 + ScarcityWeight * needBytes / (double)availableBytes;

    /// <summary>
    /// The cheapest path from <paramref name="from"/> to <paramref name="to"/> (both included), or null. Nodes in
    /// <paramref name="avoid"/> are not entered.
    /// </summary>
    public static IReadOnlyList<string>? Find(NetworkView view, string from, string to, int needBytes, IReadOnlySet<string>? avoid = null)
    {
        if (from == to) return [from];
        var cost = new Dictionary<string, double>(StringComparer.Ordinal) { [from] = 0 };
        var previous = new Dictionary<string, string>(StringComparer.Ordinal);
        var done = new HashSet<string>(StringComparer.Ordinal);
        var queue = new PriorityQueue<string, double>();
        queue.Enqueue(from, 0);
        while (queue.TryDequeue(out string? u, out double cu))
        {
            if (!done.Add(u)) continue;
            if (u == to) break;
            foreach (var (v, available) in view.UsableLinks(u).OrderBy(l => l.Neighbour, StringComparer.Ordinal))
            {
                if (done.Contains(v) || (avoid is not null && avoid.Contains(v) && v != to) || available < needBytes) continue;
                double c = cu + HopCost(available, needBytes);
                if (!cost.TryGetValue(v, out double old) || c < old)
                {
                    cost[v] = c;
                    previous[v] = u;
                    queue.Enqueue(v, c);
                }
            }
        }
        if (!previous.ContainsKey(to)) return null;
        var path = new List<string> { to };
        for (string n = to; n != from;) path.Add(n = previous[n]);
        path.Reverse();
        return path;
    }
}

/// <summary>
/// The graph routing sees: this node's own links as they are now, every other node's as it last advertised them. A
/// link counts only if both ends say it is up (a node that lost a neighbour stops advertising it at once).
/// </summary>
public sealed class NetworkView
{
    private readonly Dictionary<string, Dictionary<string, AdvertisedLink>> _links = new(StringComparer.Ordinal);

    public NetworkView(IEnumerable<LinkStateAdvertisement> advertisements)
    {
        foreach (var lsa in advertisements)
            _links[lsa.Origin] = lsa.Links.GroupBy(l => l.Neighbour).ToDictionary(g => g.Key, g => g.Last(), StringComparer.Ordinal);
    }

    /// <summary>Neighbours reachable from <paramref name="node"/> over links up at both ends, with the key <paramref name="node"/> can send with.</summary>
    public IEnumerable<(string Neighbour, long Available)> UsableLinks(string node)
    {
        if (!_links.TryGetValue(node, out var mine)) yield break;
        foreach (var l in mine.Values)
        {
            if (!l.Up) continue;
            if (!_links.TryGetValue(l.Neighbour, out var theirs) || !theirs.TryGetValue(node, out var back) || !back.Up) continue;
            yield return (l.Neighbour, l.AvailableBytes);
        }
    }
}
