using System.Net;
using System.Net.Sockets;

namespace Qkd.ClassicalChannel.Tests;

/// <summary>Two connected loopback TCP sockets: real sockets under a layer's test, without the transport's loops.</summary>
public static class LoopbackSockets
{
    public static async Task<(Socket Near, Socket Far)> ConnectAsync(CancellationToken cancellationToken)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var near = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var accepted = listener.AcceptSocketAsync(cancellationToken);
        await near.ConnectAsync(listener.LocalEndpoint, cancellationToken);
        var far = await accepted;
        far.NoDelay = true;
        return (near, far);
    }

    /// <summary>An endpoint on which nothing listens (connecting is refused at once).</summary>
    public static IPEndPoint ClosedEndpoint()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var endpoint = (IPEndPoint)listener.LocalEndpoint;
        listener.Stop();
        return endpoint;
    }
}
