using System.Diagnostics.Metrics;

namespace Qkd.ClassicalChannel;

/// <summary>
/// Sums the security counters of the node's classical channels for export. A session channel lives for one session,
/// so when it is released its final counts are kept: the exported totals only ever grow, as a Prometheus counter
/// must. Channels are grouped by a name ("session", "kme").
/// </summary>
public sealed class ChannelSecurityTally(KeyValuePair<string, object?>[] nodeTags)
{
    private static readonly FrameRejection[] Reasons = Enum.GetValues<FrameRejection>();

    private readonly object _gate = new();
    private readonly Dictionary<string, Group> _groups = new();

    /// <summary>Counts <paramref name="counters"/> under <paramref name="channel"/> until the handle is disposed, and keeps its totals after.</summary>
    public IDisposable Track(string channel, ChannelSecurityCounters counters)
    {
        lock (_gate)
        {
            if (!_groups.TryGetValue(channel, out var group)) _groups.Add(channel, group = new Group(channel, nodeTags));
            group.Live.Add(counters);
            return new Tracking(this, group, counters);
        }
    }

    public IEnumerable<Measurement<long>> ObserveRejected()
    {
        lock (_gate)
        {
            var measurements = new List<Measurement<long>>(_groups.Count * Reasons.Length);
            foreach (var group in _groups.Values)
                for (int i = 0; i < Reasons.Length; i++)
                {
                    long total = group.RetiredRejected[i];
                    foreach (var live in group.Live) total += live.Rejected(Reasons[i]);
                    measurements.Add(new Measurement<long>(total, group.ReasonTags[i]));
                }
            return measurements;
        }
    }

    public IEnumerable<Measurement<long>> ObserveReconnects()
    {
        lock (_gate)
        {
            var measurements = new List<Measurement<long>>(_groups.Count);
            foreach (var group in _groups.Values)
            {
                long total = group.RetiredReconnects;
                foreach (var live in group.Live) total += live.Reconnects;
                measurements.Add(new Measurement<long>(total, group.Tags));
            }
            return measurements;
        }
    }

    private void Retire(Group group, ChannelSecurityCounters counters)
    {
        lock (_gate)
        {
            if (!group.Live.Remove(counters)) return;
            for (int i = 0; i < Reasons.Length; i++) group.RetiredRejected[i] += counters.Rejected(Reasons[i]);
            group.RetiredReconnects += counters.Reconnects;
        }
    }

    private sealed class Group
    {
        public Group(string channel, KeyValuePair<string, object?>[] nodeTags)
        {
            Tags = [.. nodeTags, new("channel", channel)];
            ReasonTags = Reasons.Select(r => (KeyValuePair<string, object?>[])[.. Tags, new("reason", r.ToString().ToLowerInvariant())]).ToArray();
        }

        public KeyValuePair<string, object?>[] Tags { get; }
        public KeyValuePair<string, object?>[][] ReasonTags { get; }
        public List<ChannelSecurityCounters> Live { get; } = [];
        public long[] RetiredRejected { get; } = new long[Reasons.Length];
        public long RetiredReconnects { get; set; }
    }

    private sealed class Tracking(ChannelSecurityTally tally, Group group, ChannelSecurityCounters counters) : IDisposable
    {
        public void Dispose() => tally.Retire(group, counters);
    }
}
