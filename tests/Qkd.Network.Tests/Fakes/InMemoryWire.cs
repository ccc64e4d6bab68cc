using System.Threading.Channels;
using Qkd.Network.Links;

namespace Qkd.Network.Tests.Fakes;

/// <summary>
/// Both directions of one in-memory neighbour link, with the faults the tests need: hold a direction (messages queue
/// until released), cut (queued and held messages are lost, both ends see the link down), restore, inject raw bytes
/// (forgeries, replays), and a log of every message sent.
/// </summary>
public sealed class InMemoryWire
{
    private readonly Lock _lock = new();
    private Channel<byte[]> _toA = Channel.CreateUnbounded<byte[]>(), _toB = Channel.CreateUnbounded<byte[]>();
    private readonly List<byte[]> _heldToA = [], _heldToB = [];
    private bool _holdToA, _holdToB, _up = true;
    private CancellationTokenSource _cut = new();
    private TaskCompletionSource _upAgain = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public InMemoryWire(string a, string b)
    {
        NodeA = a;
        NodeB = b;
        EndA = new End(this, true);
        EndB = new End(this, false);
    }

    public string NodeA { get; }
    public string NodeB { get; }
    public INeighbourLink EndA { get; }
    public INeighbourLink EndB { get; }

    /// <summary>Every message sent (sender, bytes), in order.</summary>
    public List<(string From, byte[] Bytes)> Log { get; } = [];

    public INeighbourLink EndOf(string node) => node == NodeA ? EndA : node == NodeB ? EndB : throw new ArgumentException(node);

    public bool IsUp { get { lock (_lock) return _up; } }

    /// <summary>Messages towards <paramref name="node"/> wait until <see cref="Release"/>.</summary>
    public void Hold(string node)
    {
        lock (_lock) { if (node == NodeA) _holdToA = true; else _holdToB = true; }
    }

    public int HeldFor(string node) { lock (_lock) return node == NodeA ? _heldToA.Count : _heldToB.Count; }

    public void Release(string node)
    {
        lock (_lock)
        {
            var (held, channel) = node == NodeA ? (_heldToA, _toA) : (_heldToB, _toB);
            if (node == NodeA) _holdToA = false; else _holdToB = false;
            foreach (var m in held) channel.Writer.TryWrite(m);
            held.Clear();
        }
    }

    public void Cut()
    {
        lock (_lock)
        {
            if (!_up) return;
            _up = false;
            _heldToA.Clear();
            _heldToB.Clear();
            _holdToA = _holdToB = false;
            _cut.Cancel();
        }
    }

    public void Restore()
    {
        lock (_lock)
        {
            if (_up) return;
            _toA = Channel.CreateUnbounded<byte[]>();
            _toB = Channel.CreateUnbounded<byte[]>();
            _cut = new CancellationTokenSource();
            _up = true;
            var waiting = _upAgain;
            _upAgain = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            waiting.TrySetResult();
        }
    }

    /// <summary>Puts raw bytes on the wire towards <paramref name="node"/>, as an attacker on the fibre's classical channel could.</summary>
    public void Inject(string node, byte[] bytes)
    {
        lock (_lock) (node == NodeA ? _toA : _toB).Writer.TryWrite(bytes);
    }

    private void Send(bool fromA, ReadOnlyMemory<byte> message)
    {
        lock (_lock)
        {
            string from = fromA ? NodeA : NodeB;
            if (!_up) throw new NeighbourLinkDownException(fromA ? NodeB : NodeA);
            byte[] copy = message.ToArray();
            Log.Add((from, copy));
            if (fromA) { if (_holdToB) _heldToB.Add(copy); else _toB.Writer.TryWrite(copy); }
            else { if (_holdToA) _heldToA.Add(copy); else _toA.Writer.TryWrite(copy); }
        }
    }

    private async ValueTask<ReadOnlyMemory<byte>> ReceiveAsync(bool atA, CancellationToken cancellationToken)
    {
        Channel<byte[]> channel;
        CancellationToken cut;
        lock (_lock)
        {
            if (!_up) throw new NeighbourLinkDownException(atA ? NodeB : NodeA);
            channel = atA ? _toA : _toB;
            cut = _cut.Token;
        }
        using var both = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, cut);
        try { return await channel.Reader.ReadAsync(both.Token); }
        catch (OperationCanceledException) when (cut.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new NeighbourLinkDownException(atA ? NodeB : NodeA);
        }
    }

    private Task WaitUpAsync(CancellationToken cancellationToken)
    {
        lock (_lock) return _up ? Task.CompletedTask : _upAgain.Task.WaitAsync(cancellationToken);
    }

    private sealed class End(InMemoryWire wire, bool isA) : INeighbourLink
    {
        public string NeighbourId => isA ? wire.NodeB : wire.NodeA;
        public bool IsUp => wire.IsUp;
        public ValueTask SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default)
        {
            wire.Send(isA, message);
            return ValueTask.CompletedTask;
        }
        public ValueTask<ReadOnlyMemory<byte>> ReceiveAsync(CancellationToken cancellationToken = default) => wire.ReceiveAsync(isA, cancellationToken);
        public Task WaitUntilUpAsync(CancellationToken cancellationToken = default) => wire.WaitUpAsync(cancellationToken);
    }
}
