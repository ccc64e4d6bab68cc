using Qkd.Core.Channel;

namespace Qkd.Kme.PeerLink;

/// <summary>
/// One session of the KME link as <see cref="PeerKmeLink"/> uses it: the authenticated channel, whether it is connected
/// to the peer right now, and how to close it. The node builds it from a TCP classical channel
/// (<c>new KmeLinkChannel(tcp, () => tcp.IsConnected, tcp.DisposeAsync)</c>); the KME does not know the transport.
/// </summary>
public sealed class KmeLinkChannel(IClassicalChannel channel, Func<bool> isConnected, Func<ValueTask> close) : IAsyncDisposable
{
    public IClassicalChannel Channel { get; } = channel;

    public bool IsConnected => isConnected();

    public ValueTask DisposeAsync() => close();
}
