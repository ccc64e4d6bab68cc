using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Qkd.Status.Tests.Browser;

/// <summary>An event of the Chrome DevTools protocol: its method, the session (page) it came from, its parameters.</summary>
internal sealed record CdpEvent(string Method, string? SessionId, JsonElement Params);

/// <summary>
/// A minimal Chrome DevTools protocol client over one WebSocket (flattened sessions: page commands carry their
/// sessionId). Commands are answered by id; every event is handed to <see cref="EventReceived"/> on the receive loop.
/// No package needed: System.Net.WebSockets and System.Text.Json.
/// </summary>
internal sealed class CdpConnection : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonElement>> _pending = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _receiving;
    private int _nextId;

    private CdpConnection(ClientWebSocket socket)
    {
        _socket = socket;
        _receiving = Task.Run(ReceiveLoopAsync);
    }

    /// <summary>Every event, raised on the receive loop (keep handlers short and thread-safe).</summary>
    public event Action<CdpEvent>? EventReceived;

    public static async Task<CdpConnection> ConnectAsync(Uri endpoint, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        await socket.ConnectAsync(endpoint, cancellationToken).ConfigureAwait(false);
        return new CdpConnection(socket);
    }

    /// <summary>Sends a command and returns its result; a protocol error throws with Chromium's message.</summary>
    public async Task<JsonElement> SendAsync(string method, JsonObject? parameters = null, string? sessionId = null, CancellationToken cancellationToken = default)
    {
        int id = Interlocked.Increment(ref _nextId);
        var answer = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = answer;
        var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters ?? new JsonObject() };
        if (sessionId is not null) message["sessionId"] = sessionId;
        byte[] bytes = Encoding.UTF8.GetBytes(message.ToJsonString());
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
        using var registration = cancellationToken.Register(() => answer.TrySetCanceled(cancellationToken));
        return await answer.Task.ConfigureAwait(false);
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[64 * 1024];
        var message = new MemoryStream();
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var result = await _socket.ReceiveAsync(buffer, _stop.Token).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close) break;
                message.Write(buffer, 0, result.Count);
                if (!result.EndOfMessage) continue;
                Dispatch(message.ToArray());
                message.SetLength(0);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException)
        {
            // Closed: fail whatever still waits.
        }
        foreach (var waiting in _pending.Values) waiting.TrySetException(new WebSocketException("The DevTools connection closed."));
    }

    private void Dispatch(byte[] json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        string? session = root.TryGetProperty("sessionId", out var s) ? s.GetString() : null;
        if (root.TryGetProperty("id", out var idElement))
        {
            if (!_pending.TryRemove(idElement.GetInt32(), out var answer)) return;
            if (root.TryGetProperty("error", out var error))
                answer.TrySetException(new InvalidOperationException($"DevTools: {error.GetRawText()}"));
            else
                answer.TrySetResult(root.GetProperty("result").Clone());
            return;
        }
        if (root.TryGetProperty("method", out var method))
            EventReceived?.Invoke(new CdpEvent(method.GetString()!, session, root.TryGetProperty("params", out var p) ? p.Clone() : default));
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        try
        {
            if (_socket.State == WebSocketState.Open)
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None).ConfigureAwait(false);
        }
        catch (WebSocketException)
        {
            // The browser went first.
        }
        await _receiving.ConfigureAwait(false);
        _socket.Dispose();
        _stop.Dispose();
        _sendLock.Dispose();
    }
}
