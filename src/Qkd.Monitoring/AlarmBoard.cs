using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace Qkd.Monitoring;

/// <summary>
/// The alarms of one link end: those raised now, and a bounded history of recent changes. Thread-safe: the monitor
/// raises and clears from the distillation thread while the events endpoint, the metrics and the key gate read from
/// others. <see cref="Changed"/> is invoked after the board's state has changed, outside its lock, on the thread that made the
/// change (in order when one thread makes the changes, as the monitor does; <see cref="AlarmChange.Sequence"/> orders them always): a handler must be quick and must not throw (an exception from a handler
/// is swallowed so that one bad observer cannot stop the monitor).
/// </summary>
public sealed class AlarmBoard
{
    public const int DefaultHistoryLength = 256;

    private readonly object _gate = new();
    private readonly Dictionary<long, LinkAlarm> _raised = [];
    private readonly Queue<AlarmChange> _history = new();
    private readonly List<Channel<AlarmChange>> _watchers = [];
    private long _sequence;
    private long _nextId;
    private long _raisedTotal;

    public AlarmBoard(int historyLength = DefaultHistoryLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(historyLength, 1);
        HistoryLength = historyLength;
    }

    /// <summary>How many changes <see cref="History"/> keeps (oldest dropped first).</summary>
    public int HistoryLength { get; }

    /// <summary>Every raise and clear, after the board changed.</summary>
    public event Action<AlarmChange>? Changed;

    /// <summary>The alarms raised now, oldest first.</summary>
    public IReadOnlyList<LinkAlarm> Current
    {
        get
        {
            lock (_gate) return _raised.Values.OrderBy(a => a.Id).ToArray();
        }
    }

    /// <summary>The last <see cref="HistoryLength"/> changes, oldest first.</summary>
    public IReadOnlyList<AlarmChange> History
    {
        get
        {
            lock (_gate) return _history.ToArray();
        }
    }

    /// <summary>Alarms raised since the board was made (cleared ones included).</summary>
    public long RaisedTotal => Interlocked.Read(ref _raisedTotal);

    /// <summary>The last change's sequence number (0 before any).</summary>
    public long Sequence => Interlocked.Read(ref _sequence);

    /// <summary>True while an alarm that threatens security is raised: the node then produces no key.</summary>
    public bool HoldsKey
    {
        get
        {
            lock (_gate) return _raised.Values.Any(a => a.ThreatensSecurity);
        }
    }

    /// <summary>Why key generation is held (the oldest raised alarm that threatens security), or null when it is not.</summary>
    public string? KeyHoldReason
    {
        get
        {
            lock (_gate)
                return _raised.Values.Where(a => a.ThreatensSecurity).OrderBy(a => a.Id).FirstOrDefault() is { } alarm
                    ? $"{alarm.Kind} alarm {alarm.Id} ({alarm.Statistic}) raised on block {alarm.BlockId}: {alarm.Message}"
                    : null;
        }
    }

    /// <summary>Raised alarms per kind now.</summary>
    public int CountRaised(AlarmKind kind)
    {
        lock (_gate) return _raised.Values.Count(a => a.Kind == kind);
    }

    /// <summary>Raises an alarm; its <see cref="LinkAlarm.Id"/> is assigned here (the one given is ignored). Returns it.</summary>
    public LinkAlarm Raise(LinkAlarm alarm)
    {
        ArgumentNullException.ThrowIfNull(alarm);
        AlarmChange change;
        lock (_gate)
        {
            alarm = alarm with { Id = ++_nextId, ClearedAt = null, ClearedBlockId = null, ClearedValue = null };
            _raised.Add(alarm.Id, alarm);
            _raisedTotal++;
            change = Record(raised: true, alarm);
        }
        Publish(change);
        return alarm;
    }

    /// <summary>Clears a raised alarm; returns the cleared record, or null when it was not raised (already cleared).</summary>
    public LinkAlarm? Clear(long id, DateTimeOffset at, long blockId, double? value = null)
    {
        AlarmChange change;
        LinkAlarm cleared;
        lock (_gate)
        {
            if (!_raised.Remove(id, out var alarm)) return null;
            cleared = alarm with { ClearedAt = at, ClearedBlockId = blockId, ClearedValue = value };
            change = Record(raised: false, cleared);
        }
        Publish(change);
        return cleared;
    }

    /// <summary>
    /// The changes from now on, in order, until <paramref name="cancellationToken"/> is cancelled (for a server-sent
    /// event stream). A reader slower than <see cref="HistoryLength"/> changes loses the oldest (the sequence shows the gap).
    /// </summary>
    public async IAsyncEnumerable<AlarmChange> WatchAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var channel = Channel.CreateBounded<AlarmChange>(new BoundedChannelOptions(HistoryLength)
        {
            FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true, SingleWriter = false,
        });
        lock (_gate) _watchers.Add(channel);
        try
        {
            while (await channel.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
                while (channel.Reader.TryRead(out var change))
                    yield return change;
        }
        finally
        {
            lock (_gate) _watchers.Remove(channel);
        }
    }

    private AlarmChange Record(bool raised, LinkAlarm alarm)
    {
        var change = new AlarmChange(Interlocked.Increment(ref _sequence), raised, alarm);
        _history.Enqueue(change);
        while (_history.Count > HistoryLength) _history.Dequeue();
        foreach (var watcher in _watchers) watcher.Writer.TryWrite(change);
        return change;
    }

    private void Publish(AlarmChange change)
    {
        var handlers = Changed;
        if (handlers is null) return;
        foreach (Action<AlarmChange> handler in handlers.GetInvocationList())
        {
            try
            {
                handler(change);
            }
            catch (Exception)
            {
                // An observer's fault must not stop the monitor or the other observers.
            }
        }
    }
}
