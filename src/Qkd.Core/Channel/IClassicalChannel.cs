namespace Qkd.Core.Channel;

/// <summary>
/// The authenticated classical channel between Alice's and Bob's distillers, as seen by the protocol: an ordered,
/// reliable stream of whole messages. Authentication and framing belong to the implementation (in memory for a
/// one-process link, TCP with a Wegman-Carter MAC between nodes).
/// </summary>
public interface IClassicalChannel
{
    /// <summary>Sends one message. The implementation copies what it needs before returning.</summary>
    ValueTask SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default);

    /// <summary>Receives the next message; throws <see cref="ClassicalChannelClosedException"/> when the peer has closed.</summary>
    ValueTask<ReadOnlyMemory<byte>> ReceiveAsync(CancellationToken cancellationToken = default);

    /// <summary>Bytes and messages sent so far (for the report: classical communication per key bit).</summary>
    ChannelStatistics Statistics { get; }

    /// <summary>Tells the peer no more messages will come.</summary>
    void Complete();

    /// <summary>
    /// Cancelled once the peer will send nothing more in this session: it completed its end, or the channel stopped for
    /// good (the peer restarted, the link was given up, this end was disposed). Session work that blocks on something
    /// other than the channel (Bob's tag read) honours it, so a session whose peer has gone ends instead of waiting for
    /// light that will not come. A channel that cannot tell returns an uncancellable token.
    /// </summary>
    CancellationToken Closed => CancellationToken.None;
}

/// <summary>Traffic counters of one end of a classical channel.</summary>
public sealed class ChannelStatistics
{
    private long _messagesSent, _bytesSent, _messagesReceived, _bytesReceived;

    public long MessagesSent => Interlocked.Read(ref _messagesSent);
    public long BytesSent => Interlocked.Read(ref _bytesSent);
    public long MessagesReceived => Interlocked.Read(ref _messagesReceived);
    public long BytesReceived => Interlocked.Read(ref _bytesReceived);

    public void CountSent(int bytes)
    {
        Interlocked.Increment(ref _messagesSent);
        Interlocked.Add(ref _bytesSent, bytes);
    }

    public void CountReceived(int bytes)
    {
        Interlocked.Increment(ref _messagesReceived);
        Interlocked.Add(ref _bytesReceived, bytes);
    }
}

/// <summary>The peer closed the classical channel (or the link was torn down) while a message was expected.</summary>
public sealed class ClassicalChannelClosedException(string message) : Exception(message);
