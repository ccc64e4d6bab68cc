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

    private InMemoryClassicalChannel(string name, ChannelWriter<byte[]> outbox, ChannelReader<byte[]> inbox)
    {
        _name = name;
        _outbox = outbox;
        _inbox = inbox;
    }

    public ChannelStatistics Statistics { get; } = new();

    /// <summary>Creates a connected pair: what one end sends, the other receives.</summary>
    public static (InMemoryClassicalChannel Alice, InMemoryClassicalChannel Bob) CreatePair()
    {
        var toBob = System.Threading.Channels.Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var toAlice = System.Threading.Channels.Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        return (new InMemoryClassicalChannel("alice", toBob.Writer, toAlice.Reader),
                new InMemoryClassicalChannel("bob", toAlice.Writer, toBob.Reader));
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

    public void Complete() => _outbox.TryComplete();
}
