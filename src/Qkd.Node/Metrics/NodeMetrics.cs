using System.Diagnostics.Metrics;
using Qkd.Distillation;
using Qkd.ClassicalChannel;

namespace Qkd.Node.Metrics;

/// <summary>
/// The node's own instruments (meter "Qkd.Node"): sessions, distilled blocks and secret bits, the QBER of the last
/// block, the authentication pad and the classical channels' rejected frames. Every measurement is tagged with the
/// link and the role, like the key pool's. Events are counted with pre-built tag arrays (nothing allocated per
/// event); pad, QBER and channel values are read only when a listener collects.
/// </summary>
public sealed class NodeMetrics : IDisposable
{
    public const string MeterName = "Qkd.Node";

    private readonly Meter _meter = new(MeterName);
    private readonly KeyValuePair<string, object?>[] _tags;
    private readonly Dictionary<string, KeyValuePair<string, object?>[]> _abortTags;
    private readonly KeyValuePair<string, object?>[][] _outcomeTags;
    private readonly Counter<long> _sessionsStarted, _sessionsCompleted, _sessionsAborted, _blocks, _secretBits;
    private long _lastQberBits = BitConverter.DoubleToInt64Bits(double.NaN);
    private AuthenticationPadStore? _pad;

    public NodeMetrics(string linkId, string role)
    {
        _tags = [new("link", linkId), new("role", role)];
        _abortTags = SessionAbortReason.All.ToDictionary(reason => reason, reason => With("reason", reason));
        _outcomeTags = Enum.GetValues<BlockOutcome>().Select(o => With("outcome", OutcomeName(o))).ToArray();
        Channels = new ChannelSecurityTally(_tags);

        _sessionsStarted = _meter.CreateCounter<long>("qkd.node.sessions.started", "{session}", "Sessions opened (handshake begun), completed or not");
        _sessionsCompleted = _meter.CreateCounter<long>("qkd.node.sessions.completed", "{session}", "Sessions that ran to their end (with or without key)");
        _sessionsAborted = _meter.CreateCounter<long>("qkd.node.sessions.aborted", "{session}", "Sessions broken before their end, by cause; a new one follows");
        _blocks = _meter.CreateCounter<long>("qkd.node.blocks", "{block}", "Distilled blocks by outcome (key, no_key, aborted); counted by Bob, who runs the protocol");
        _secretBits = _meter.CreateCounter<long>("qkd.node.secret_bits", "{bit}", "Secret key bits distilled (pad replenishment included)");
        _meter.CreateObservableGauge("qkd.node.qber", ObserveQber, "1", "QBER of the last distilled block (Z basis, else X); Bob only");
        _meter.CreateObservableGauge("qkd.channel.pad.remaining_bits", () => ObservePad(a => a.RemainingBits), "{bit}",
            "Authentication pad bits this end can still spend on tags");
        _meter.CreateObservableCounter("qkd.channel.pad.consumed_bits", () => ObservePad(a => a.ConsumedBits), "{bit}",
            "Authentication pad bits this end has spent or reserved (never used again)");
        _meter.CreateObservableCounter("qkd.channel.pad.replenished_bits", () => ObservePad(a => a.ReplenishedBits), "{bit}",
            "Authentication pad bits refilled from distilled key");
        _meter.CreateObservableCounter("qkd.channel.frames_rejected", Channels.ObserveRejected, "{frame}",
            "Classical-channel frames refused, by channel and reason (forged = authentication failure); none reaches the distiller");
        _meter.CreateObservableCounter("qkd.channel.reconnects", Channels.ObserveReconnects, "{connection}",
            "Classical-channel connections re-established after the first");
    }

    /// <summary>The classical channels whose security counters are exported.</summary>
    public ChannelSecurityTally Channels { get; }

    public void SessionStarted() => _sessionsStarted.Add(1, _tags);

    public void SessionCompleted() => _sessionsCompleted.Add(1, _tags);

    /// <param name="reason">One of <see cref="SessionAbortReason.All"/>.</param>
    public void SessionAborted(string reason) => _sessionsAborted.Add(1, _abortTags.GetValueOrDefault(reason) ?? _abortTags[SessionAbortReason.Other]);

    /// <summary>Every block reported to <see cref="BlockCompleted"/> (the status page listens).</summary>
    public event Action<BlockResult>? BlockReported;

    /// <summary>A block's outcome and QBER (Bob's distiller reports every block).</summary>
    public void BlockCompleted(BlockResult block)
    {
        BlockReported?.Invoke(block);
        _blocks.Add(1, _outcomeTags[(int)block.Outcome]);
        double qber = double.IsNaN(block.QberZ) ? block.QberX : block.QberZ;
        if (!double.IsNaN(qber)) Interlocked.Exchange(ref _lastQberBits, BitConverter.DoubleToInt64Bits(qber));
    }

    public void SecretBitsDistilled(long bits) => _secretBits.Add(bits, _tags);

    /// <summary>Exports <paramref name="pad"/>'s account until the returned handle is disposed (before the pad is).</summary>
    public IDisposable ObservePadStore(AuthenticationPadStore pad)
    {
        Volatile.Write(ref _pad, pad);
        return new Detach(() => Interlocked.CompareExchange(ref _pad, null, pad));
    }

    public void Dispose() => _meter.Dispose();

    private IEnumerable<Measurement<double>> ObserveQber()
    {
        double qber = BitConverter.Int64BitsToDouble(Interlocked.Read(ref _lastQberBits));
        return double.IsNaN(qber) ? [] : [new Measurement<double>(qber, _tags)];
    }

    private IEnumerable<Measurement<long>> ObservePad(Func<AuthenticationPadAccount, long> pick) =>
        Volatile.Read(ref _pad) is { } pad ? [new Measurement<long>(pick(pad.Account), _tags)] : [];

    private KeyValuePair<string, object?>[] With(string key, string value) => [.. _tags, new(key, value)];

    private static string OutcomeName(BlockOutcome outcome) => outcome switch
    {
        BlockOutcome.Key => "key",
        BlockOutcome.NoKey => "no_key",
        BlockOutcome.Aborted => "aborted",
        _ => outcome.ToString().ToLowerInvariant(),
    };

    private sealed class Detach(Action action) : IDisposable
    {
        private Action? _action = action;

        public void Dispose() => Interlocked.Exchange(ref _action, null)?.Invoke();
    }
}
