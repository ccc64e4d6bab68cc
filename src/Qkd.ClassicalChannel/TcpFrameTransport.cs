using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Qkd.ClassicalChannel;

/// <summary>
/// Transport layer of the TCP classical channel: opens connections and keeps one up. A connector connects to
/// <see cref="TcpClassicalChannelOptions.ConnectEndpoint"/> and reconnects after every loss with exponential backoff
/// (giving up after <see cref="TcpClassicalChannelOptions.GiveUpAfter"/> if set); a listener binds
/// <see cref="TcpClassicalChannelOptions.ListenEndpoint"/> and accepts whoever comes, each connection on its own task,
/// because a reconnecting peer's new connection must be able to take over while the old one is still being torn down.
/// Each connection (a <see cref="FrameConnection"/>: whole frames) goes to the <see cref="IFrameConnectionHandler"/>
/// for a handshake within <see cref="TcpClassicalChannelOptions.HandshakeTimeout"/> and then for serving.
/// </summary>
internal sealed class TcpFrameTransport : IAsyncDisposable
{
    private readonly TcpClassicalChannelOptions _options;
    private readonly ChannelSecurityCounters _security;
    private readonly ILogger _logger;
    private readonly ChannelEnd _local;
    private readonly TcpListener? _listener;
    private readonly HashSet<Task> _accepted = [];
    private readonly SemaphoreSlim _unauthenticated;
    private CancellationTokenSource? _stop;
    private Task _run = Task.CompletedTask;
    private int _disposed;

    /// <summary>A listener binds here at once, so <see cref="LocalEndpoint"/> is known and a busy port fails in the constructor.</summary>
    public TcpFrameTransport(TcpClassicalChannelOptions options, ChannelSecurityCounters security, ILogger logger)
    {
        _options = options;
        _security = security;
        _logger = logger;
        _local = options.LocalEnd;
        _unauthenticated = new SemaphoreSlim(options.MaxUnauthenticatedConnections, options.MaxUnauthenticatedConnections);
        if (options.ListenEndpoint is { } listen)
        {
            _listener = new TcpListener(listen);
            _listener.Start();
            LocalEndpoint = (IPEndPoint)_listener.LocalEndpoint;
        }
    }

    /// <summary>The listening endpoint (listener only).</summary>
    public IPEndPoint? LocalEndpoint { get; }

    /// <summary>The largest payload a frame may announce: a fragment (or a handshake's pad position), never a whole large message.</summary>
    private static int MaxFramePayload => TcpClassicalChannelOptions.MaxFrameBodyBytes - FrameHeader.Overhead;

    /// <summary>Starts connecting or accepting in the background until <paramref name="stop"/> or disposal.</summary>
    public void Start(IFrameConnectionHandler handler, CancellationToken stop)
    {
        if (_stop is not null) throw new InvalidOperationException("The transport is already started.");
        _stop = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var token = _stop.Token;
        _run = _listener is null
            ? Task.Run(() => ConnectLoopAsync(handler, token), CancellationToken.None)
            : Task.Run(() => AcceptLoopAsync(handler, token), CancellationToken.None);
    }

    /// <summary>Stops connecting and accepting and waits until no connection of this transport is being served.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        try { _stop?.Cancel(); } catch (ObjectDisposedException) { }
        _listener?.Stop();
        try { await _run.ConfigureAwait(false); }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException) { }
        Task[] accepted;
        lock (_accepted) accepted = [.. _accepted];
        // Each accepted connection logs its own end; waiting here only guarantees none outlives the channel.
        await Task.WhenAll(accepted).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task ConnectLoopAsync(IFrameConnectionHandler handler, CancellationToken stop)
    {
        var delay = _options.InitialReconnectDelay;
        var lastUp = DateTime.UtcNow;
        while (!stop.IsCancellationRequested)
        {
            Socket? socket = null;
            FrameConnection? connection = null;
            try
            {
                socket = NewSocket();
                bool established;
                // One deadline for connecting and handshaking: a peer that accepts but never answers is as dead as one that never accepts.
                using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(stop))
                {
                    deadline.CancelAfter(_options.HandshakeTimeout);
                    await socket.ConnectAsync(_options.ConnectEndpoint!, deadline.Token).ConfigureAwait(false);
                    connection = new FrameConnection(socket, MaxFramePayload, _local, _security, _logger);
                    established = await handler.HandshakeAsync(connection, deadline.Token).ConfigureAwait(false);
                }
                if (established)
                {
                    delay = _options.InitialReconnectDelay;
                    await handler.ServeAsync(connection, stop).ConfigureAwait(false);
                    lastUp = DateTime.UtcNow;
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { break; }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                _logger.LogDebug("Classical channel ({End}): connection to {Endpoint} failed: {Error}", _local, _options.ConnectEndpoint, e.Message);
            }
            finally
            {
                if (connection is not null) connection.Abort();
                else socket?.Close(0);
            }
            if (_options.GiveUpAfter is { } giveUp && DateTime.UtcNow - lastUp > giveUp)
            {
                handler.ConnectingAbandoned($"Classical channel ({_local} end): no connection to {_options.ConnectEndpoint} for {giveUp}; giving up.");
                break;
            }
            // After the first handshake showed the secrets differ, retrying soon cannot help: slow down (and stop logging).
            var wait = handler.RetryDelay is { } slow && slow > delay ? slow : delay;
            try { await Task.Delay(wait, stop).ConfigureAwait(false); }
            catch (OperationCanceledException) { break; }
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxReconnectDelay.Ticks));
        }
    }

    private async Task AcceptLoopAsync(IFrameConnectionHandler handler, CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                Socket socket;
                try
                {
                    socket = await _listener!.AcceptSocketAsync(stop).ConfigureAwait(false);
                }
                catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
                {
                    if (stop.IsCancellationRequested) break;
                    _logger.LogDebug("Classical channel ({End}): accept failed: {Error}", _local, e.Message);
                    continue;
                }
                if (!_unauthenticated.Wait(0))
                {
                    // Too many connections are still to authenticate: this one costs nothing more than its socket.
                    _security.CountConnectionRefused();
                    _logger.LogDebug("Classical channel ({End}): {Limit} connections waiting to authenticate; closed a new one", _local, _options.MaxUnauthenticatedConnections);
                    socket.Close(0);
                    continue;
                }
                Configure(socket);
                Track(Task.Run(() => ServeAcceptedAsync(handler, socket, stop), CancellationToken.None));
            }
        }
        finally
        {
            // Free the port as soon as the channel stops: the node opens its next channel on the same port.
            _listener!.Stop();
        }
    }

    /// <summary>One accepted connection: handshake, then serve until it ends.</summary>
    private async Task ServeAcceptedAsync(IFrameConnectionHandler handler, Socket socket, CancellationToken stop)
    {
        FrameConnection? connection = null;
        bool slotHeld = true;
        try
        {
            connection = new FrameConnection(socket, MaxFramePayload, _local, _security, _logger);
            bool established;
            using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(stop))
            {
                deadline.CancelAfter(_options.HandshakeTimeout);
                established = await handler.HandshakeAsync(connection, deadline.Token).ConfigureAwait(false);
            }
            _unauthenticated.Release();
            slotHeld = false;
            if (!established) return;
            await handler.ServeAsync(connection, stop).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            _logger.LogDebug("Classical channel ({End}): connection ended: {Error}", _local, e.Message);
        }
        finally
        {
            if (slotHeld) _unauthenticated.Release();
            if (connection is not null) connection.Abort();
            else socket.Close(0);
        }
    }

    private void Track(Task serving)
    {
        lock (_accepted) _accepted.Add(serving);
        _ = serving.ContinueWith(t => { lock (_accepted) _accepted.Remove(t); }, CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private static Socket NewSocket()
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        Configure(socket);
        return socket;
    }

    /// <summary>No Nagle delay (a frame is one write; request and reply alternate), keep-alive to notice a dead peer.</summary>
    private static void Configure(Socket socket)
    {
        socket.NoDelay = true;
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
    }
}
