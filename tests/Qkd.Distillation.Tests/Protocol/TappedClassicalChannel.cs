using Qkd.Core.Channel;
using Qkd.Distillation.Protocol;

namespace Qkd.Distillation.Tests.Protocol;

/// <summary>
/// One end of a classical channel that logs the type of every message sent, and lets a test replace a message on
/// its way out or in (an active attacker, or a peer speaking another version of the protocol).
/// </summary>
internal sealed class TappedClassicalChannel(IClassicalChannel inner) : IClassicalChannel
{
    public List<MessageType> Sent { get; } = [];

    /// <summary>Rewrites an outgoing message (return it unchanged to let it pass).</summary>
    public Func<byte[], byte[]>? OnSend { get; set; }

    /// <summary>Rewrites an incoming message.</summary>
    public Func<byte[], byte[]>? OnReceive { get; set; }

    public ChannelStatistics Statistics => inner.Statistics;

    public ValueTask SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default)
    {
        lock (Sent) Sent.Add(ProtocolReader.PeekType(message.Span));
        return OnSend is { } rewrite ? inner.SendAsync(rewrite(message.ToArray()), cancellationToken) : inner.SendAsync(message, cancellationToken);
    }

    public async ValueTask<ReadOnlyMemory<byte>> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        var message = await inner.ReceiveAsync(cancellationToken);
        return OnReceive is { } rewrite ? rewrite(message.ToArray()) : message;
    }

    public void Complete() => inner.Complete();

    public int Count(MessageType type)
    {
        lock (Sent) return Sent.Count(t => t == type);
    }
}
