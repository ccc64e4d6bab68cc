using System.Threading.Channels;
using Qkd.Core.Channel;

namespace Qkd.ClassicalChannel;

/// <summary>
/// Both ends of a classical channel inside one process (the quick-start link and tests). Messages are copied on
/// send, so a sender may reuse its buffer at once, exactly as with a socket.
/// </summary>
public sealed class InMemoryClassicalChannel : IClassicalChannel
{
    private readonly ChannelWriter<byte[]> _outbox;
    private readonly ChannelReader<byte[]> _inbox;
    private readonly string _name;
    private readonly CancellationTokenSource _completed, _peerCompleted; // this end's Complete, the peer's

    private InMemoryClassicalChannel(string name, ChannelWriter<byte[]> outbox, ChannelReader<byte[]> inbox,
        CancellationTokenSource completed, CancellationTokenSource peerCompleted)
    {
        _name = name;
        _outbox = outbox;
        _inbox = inbox;
        _completed = completed;
        _peerCompleted = peerCompleted;
    }

    /// <summary>Cancelled once the peer has completed its end.</summary>
    public CancellationToken Closed => _peerCompleted.Token;

    public ChannelStatistics Statistics { get; } = new();

    /// <summary>Creates a connected pair: what one end sends, the other receives.</summary>
    public static (InMemoryClassicalChannel Alice, InMemoryClassicalChannel Bob) CreatePair()
    {
        var toBob = System.Threading.Channels.Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var toAlice = System.Threading.Channels.Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        CancellationTokenSource aliceDone = new(), bobDone = new();
        return (new InMemoryClassicalChannel("alice", toBob.Writer, toAlice.Reader, aliceDone, bobDone),
                new InMemoryClassicalChannel("bob", toAlice.Writer, toBob.Reader, bobDone, aliceDone));
    }

    public ValueTask SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default)
    {
        byte[] copy = message.ToArray();
        if (!_outbox.TryWrite(copy))
            throw new ClassicalChannelClosedException($"Classical channel ({_name} end) is closed; cannot send a {copy.Length}-byte message.");
        Statistics.CountSent(copy.Length);
        return ValueTask.CompletedTask;
    }

    public async ValueTask<ReadOnlyMemory<byte>> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            byte[] message = await _inbox.ReadAsync(cancellationToken).ConfigureAwait(false);
            Statistics.CountReceived(message.Length);
            return message;
        }
        catch (ChannelClosedException)
        {
            throw new ClassicalChannelClosedException($"Classical channel ({_name} end): the peer closed the channel.");
        }
    }

    public void Complete()
    {
        if (!_outbox.TryComplete()) return;
        // Off the caller's thread: cancelling runs the continuations of whoever waits on the peer's Closed.
        ThreadPool.UnsafeQueueUserWorkItem(static done => done.Cancel(), _completed, preferLocal: false);
    }
}
