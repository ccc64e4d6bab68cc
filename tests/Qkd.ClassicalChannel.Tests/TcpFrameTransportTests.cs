using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging.Abstractions;

namespace Qkd.ClassicalChannel.Tests;

/// <summary>
/// The transport alone, under a handler that records what it is given: connecting, reconnecting, accepting, handshake
/// deadlines, giving up, and a dispose that leaves nothing running. Every wait is for an event (a connection, a frame,
/// a callback); the timeout is only a safety net.
/// </summary>
public sealed class TcpFrameTransportTests : IDisposable
{
    private readonly TestPads _pads = new(padBytes: 1024);
    private readonly AuthenticationPadStore _pad;
    private readonly ChannelSecurityCounters _security;
    private readonly CancellationTokenSource _timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);

    public TcpFrameTransportTests()
    {
        _pad = _pads.Open(ChannelEnd.Alice);
        _security = new ChannelSecurityCounters(_pad);
        _timeout.CancelAfter(TimeSpan.FromSeconds(60));
    }

    public void Dispose()
    {
        _timeout.Dispose();
        _pad.Dispose();
        _pads.Dispose();
    }

    private CancellationToken Token => _timeout.Token;

    /// <summary>Accepts every handshake (unless told otherwise) and serves by reading frames until the connection ends.</summary>
    private sealed class RecordingHandler : IFrameConnectionHandler
    {
        public Func<FrameConnection, CancellationToken, Task<bool>> Handshake { get; init; } = (_, _) => Task.FromResult(true);
        public Channel<FrameConnection> Handshaken { get; } = Channel.CreateUnbounded<FrameConnection>();
        public Channel<byte[]> Received { get; } = Channel.CreateUnbounded<byte[]>();
        public Channel<FrameConnection> ServeEnded { get; } = Channel.CreateUnbounded<FrameConnection>();
        public TaskCompletionSource<string> Abandoned { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async ValueTask<bool> HandshakeAsync(FrameConnection connection, CancellationToken deadline)
        {
            bool established = await Handshake(connection, deadline);
            if (established) Handshaken.Writer.TryWrite(connection);
            return established;
        }

        public async Task ServeAsync(FrameConnection connection, CancellationToken stop)
        {
            try
            {
                while (await connection.ReadFrameAsync(stop) is { } body) Received.Writer.TryWrite(body);
            }
            finally
            {
                ServeEnded.Writer.TryWrite(connection);
            }
        }

        public void ConnectingAbandoned(string reason) => Abandoned.TrySetResult(reason);

        public TimeSpan? RetryDelay => null;
    }

    private static byte[] Body(byte fill) => Enumerable.Repeat(fill, FrameHeader.Overhead + 5).ToArray();

    private static async Task SendFrameAsync(Socket socket, byte[] body, CancellationToken token)
    {
        var frame = FrameConnection.NewFrame(body.Length);
        body.CopyTo(frame, FrameConnection.LengthPrefixBytes);
        await socket.SendAsync(frame, SocketFlags.None, token);
    }

    /// <summary>True once the other side has closed (end of stream or reset).</summary>
    private static async Task<bool> ClosedByPeer(Socket socket, CancellationToken token)
    {
        try { return await socket.ReceiveAsync(new byte[1], SocketFlags.None, token) == 0; }
        catch (SocketException) { return true; }
    }

    [Fact]
    public async Task A_connector_reconnects_after_its_connection_drops()
    {
        using var peer = new TcpListener(IPAddress.Loopback, 0);
        peer.Start();
        var handler = new RecordingHandler();
        await using var transport = new TcpFrameTransport(TestPads.Connector(peer.LocalEndpoint), _security, NullLogger.Instance);
        Assert.Null(transport.LocalEndpoint);
        transport.Start(handler, Token);

        using var first = await peer.AcceptSocketAsync(Token);
        var firstConnection = await handler.Handshaken.Reader.ReadAsync(Token);
        await SendFrameAsync(first, Body(1), Token);
        Assert.Equal(Body(1), await handler.Received.Reader.ReadAsync(Token));

        first.Close(0); // dropped under the connector's feet
        Assert.Same(firstConnection, await handler.ServeEnded.Reader.ReadAsync(Token));
        using var second = await peer.AcceptSocketAsync(Token);
        Assert.NotSame(firstConnection, await handler.Handshaken.Reader.ReadAsync(Token));
        await SendFrameAsync(second, Body(2), Token);
        Assert.Equal(Body(2), await handler.Received.Reader.ReadAsync(Token));
    }

    [Fact]
    public async Task A_refused_handshake_drops_the_connection_unserved_and_the_connector_tries_again()
    {
        using var peer = new TcpListener(IPAddress.Loopback, 0);
        peer.Start();
        int attempts = 0;
        var handler = new RecordingHandler { Handshake = (_, _) => Task.FromResult(Interlocked.Increment(ref attempts) > 1) };
        await using var transport = new TcpFrameTransport(TestPads.Connector(peer.LocalEndpoint), _security, NullLogger.Instance);
        transport.Start(handler, Token);

        using var refused = await peer.AcceptSocketAsync(Token);
        Assert.True(await ClosedByPeer(refused, Token));
        using var accepted = await peer.AcceptSocketAsync(Token);
        await handler.Handshaken.Reader.ReadAsync(Token);
        Assert.Equal(2, Volatile.Read(ref attempts));
        Assert.False(handler.ServeEnded.Reader.TryRead(out _)); // the refused one was never served
    }

    [Fact]
    public async Task A_listener_cuts_a_handshake_at_its_deadline_and_serves_the_next_connection()
    {
        var deadlinePassed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int attempts = 0;
        var handler = new RecordingHandler
        {
            Handshake = async (_, deadline) =>
            {
                if (Interlocked.Increment(ref attempts) > 1) return true;
                // The first peer never finishes its handshake: only the transport's deadline ends it.
                try { await Task.Delay(Timeout.Infinite, deadline); }
                catch (OperationCanceledException) { deadlinePassed.TrySetResult(); throw; }
                return true;
            },
        };
        var options = TestPads.Listener() with { HandshakeTimeout = TimeSpan.FromMilliseconds(100) };
        await using var transport = new TcpFrameTransport(options, _security, NullLogger.Instance);
        Assert.NotNull(transport.LocalEndpoint);
        Assert.NotEqual(0, transport.LocalEndpoint.Port);
        transport.Start(handler, Token);

        using var silent = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await silent.ConnectAsync(transport.LocalEndpoint, Token);
        await deadlinePassed.Task.WaitAsync(Token);
        Assert.True(await ClosedByPeer(silent, Token));

        using var client = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(transport.LocalEndpoint, Token);
        await handler.Handshaken.Reader.ReadAsync(Token);
        await SendFrameAsync(client, Body(3), Token);
        Assert.Equal(Body(3), await handler.Received.Reader.ReadAsync(Token));
    }

    [Fact]
    public async Task A_connector_gives_up_after_GiveUpAfter_without_a_connection()
    {
        var handler = new RecordingHandler();
        var options = TestPads.Connector(LoopbackSockets.ClosedEndpoint()) with { GiveUpAfter = TimeSpan.FromMilliseconds(50) };
        await using var transport = new TcpFrameTransport(options, _security, NullLogger.Instance);
        transport.Start(handler, Token);

        var reason = await handler.Abandoned.Task.WaitAsync(Token);
        Assert.Contains("giving up", reason);
        Assert.Contains(options.ConnectEndpoint!.ToString()!, reason);
        Assert.False(handler.Handshaken.Reader.TryRead(out _));
    }

    [Fact]
    public async Task Disposing_a_listener_ends_its_connections_and_frees_the_port()
    {
        var handler = new RecordingHandler();
        var transport = new TcpFrameTransport(TestPads.Listener(), _security, NullLogger.Instance);
        var endpoint = transport.LocalEndpoint!;
        transport.Start(handler, Token);
        using var client = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(endpoint, Token);
        var connection = await handler.Handshaken.Reader.ReadAsync(Token);

        await transport.DisposeAsync();
        // Dispose waited for the connection being served: it has ended already.
        Assert.True(handler.ServeEnded.Reader.TryRead(out var ended));
        Assert.Same(connection, ended);
        Assert.True(await ClosedByPeer(client, Token));
        using var next = new TcpListener(endpoint);
        next.Start(); // the node's next channel binds the same port
    }
}
