using System.Collections.Concurrent;
using Qkd.Protocol.Messages;
using Qkd.Protocol.Transport;
using Qkd.Protocol;

namespace Qkd.Hardware.Devices;

/// <summary>
/// The host end of the wire protocol with one device over one transport: sends requests and matches their replies by
/// sequence number, retries idempotent requests after a timeout, hands events and stream frames to their consumers,
/// and notices when the device goes away.
/// </summary>
/// <remarks>
/// <para>Threads. A dedicated reader thread owns the transport's read side and the frame decoder. Any thread may send
/// requests (they are serialised on the write side by one lock); stream frames are written by their producer under the
/// same lock, batched, so a modulator's symbol stream and a control request interleave frame by frame.</para>
/// <para>Disconnect. When the transport reports the device gone, every waiting request fails with
/// <see cref="DeviceDisconnectedException"/>, later ones fail at once, and <see cref="Disconnected"/> fires once. A
/// connection is not reopened: the driver makes a new one (see <see cref="IDeviceConnector"/>).</para>
/// </remarks>
public sealed class DeviceConnection : IDisposable
{
    private readonly IFrameTransport _transport;
    private readonly IFrameDecoder _decoder;
    private readonly FrameWriter _writer;
    private readonly Lock _writeLock = new();
    private readonly ConcurrentDictionary<uint, PendingRequest> _pending = new();
    private readonly Thread _reader;
    private readonly DeviceConnectionOptions _options;
    private uint _nextSequence;
    private volatile Exception? _disconnectCause;
    private int _disconnectRaised;
    private volatile bool _disposed;

    /// <param name="transport">An open transport; the connection owns it and disposes it.</param>
    /// <param name="deviceClass">The class written into every request header.</param>
    /// <param name="deviceName">For errors and logs: "time tagger TT-0042 (/dev/ttyACM0)".</param>
    /// <param name="streamReceiver">
    /// Takes stream frames from the first byte on: a device may resume streaming the moment it is plugged in, before
    /// the host has asked it anything.
    /// </param>
    public DeviceConnection(IFrameTransport transport, DeviceClass deviceClass, string deviceName, DeviceConnectionOptions? options = null,
        IStreamReceiver? streamReceiver = null)
    {
        StreamReceiver = streamReceiver;
        ArgumentNullException.ThrowIfNull(transport);
        _options = options ?? new DeviceConnectionOptions();
        _options.Validate();
        _transport = transport;
        DeviceClass = deviceClass;
        DeviceName = deviceName;
        _decoder = IFrameDecoder.For(transport.Framing);
        int batch = transport.Framing == FramingKind.Packet
            ? Math.Min(transport.MaxWriteLength, ProtocolConstants.MaxFrameLength)
            : Math.Max(1 << 18, ProtocolConstants.MaxEncodedFrameLength + 1);
        _writer = new FrameWriter(transport.Framing, batch);
        _reader = new Thread(ReadLoop) { IsBackground = true, Name = $"qkd-rx {deviceName}" };
        _reader.Start();
    }

    public DeviceClass DeviceClass { get; }

    public string DeviceName { get; private set; }

    /// <summary>What the transport is connected to.</summary>
    public string TransportDescription => _transport.Description;

    public ConnectionCounters Counters { get; } = new();

    /// <summary>Frames the reader accepted and rejected (CRC errors, bad encoding, ...).</summary>
    public FrameDecoderCounters DecoderCounters => _decoder.Counters;

    public bool IsConnected => _disconnectCause is null && !_disposed;

    /// <summary>Events from the device, raised on the reader thread (keep handlers short).</summary>
    public event Action<DeviceEvent>? EventReceived;

    /// <summary>Raised once, on the reader thread, when the device goes away; the argument is the cause.</summary>
    public event Action<Exception>? Disconnected;

    /// <summary>Takes the stream frames the device sends (a tagger's tags); frames arriving while none is set are counted and dropped.</summary>
    public IStreamReceiver? StreamReceiver { get; set; }

    /// <summary>Renames the device in later errors, once its identity (serial number) is known.</summary>
    public void SetDeviceName(string name) => DeviceName = name;

    /// <summary>
    /// Sends a request and waits for its reply; returns the reply payload. Idempotent requests are retried after a
    /// timeout (with a new sequence number, so a late reply to the first attempt is told apart and counted).
    /// </summary>
    /// <param name="operation">What the caller is doing, for errors: "set gate width on head 2 to 1500 ps".</param>
    /// <exception cref="DeviceTimeoutException">No reply after all attempts.</exception>
    /// <exception cref="DeviceNackException">The device refused the request.</exception>
    /// <exception cref="DeviceDisconnectedException">The device is gone.</exception>
    /// <param name="timeout">Overrides the reply timeout (a Stop that waits for the device to drain its buffers).</param>
    public byte[] Request(MessageType type, ReadOnlySpan<byte> payload, string operation, bool idempotent = true,
        TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        TimeSpan replyTimeout = timeout ?? _options.ReplyTimeout;
        int attempts = idempotent ? 1 + _options.Retries : 1;
        for (int attempt = 1; ; attempt++)
        {
            ThrowIfGone(operation);
            uint sequence = Interlocked.Increment(ref _nextSequence);
            var pending = new PendingRequest(type);
            _pending[sequence] = pending;
            Interlocked.Increment(ref Counters.Requests);
            try
            {
                WriteFrame(new FrameHeader(DeviceClass, type, FrameFlags.None, sequence, payload.Length), payload, operation);
                if (!pending.Completion.Task.Wait(replyTimeout, cancellationToken))
                {
                    Interlocked.Increment(ref Counters.Timeouts);
                    if (attempt < attempts)
                    {
                        Interlocked.Increment(ref Counters.Retries);
                        continue;
                    }
                    ThrowIfGone(operation);
                    throw new DeviceTimeoutException(DeviceName, operation, replyTimeout);
                }
            }
            catch (AggregateException e) when (e.InnerException is DeviceException inner)
            {
                throw Rethrow(inner, operation);
            }
            finally
            {
                _pending.TryRemove(sequence, out _);
            }
            Reply reply = pending.Completion.Task.Result;
            if (reply.Nack)
            {
                Interlocked.Increment(ref Counters.Nacks);
                NackPayload nack;
                try { nack = NackPayload.Read(reply.Payload); }
                catch (PayloadFormatException e) { throw new DeviceException(DeviceName, operation, $"the device sent a malformed nack: {e.Message}"); }
                throw new DeviceNackException(DeviceName, operation, nack);
            }
            return reply.Payload;
        }
    }

    /// <summary>
    /// Starts a stream frame (host to device) in the write batch and returns the span for its payload; the caller must
    /// call <see cref="EndStreamFrame"/> on the same thread. Holds the write lock in between, so keep it short.
    /// </summary>
    public Span<byte> BeginStreamFrame(MessageType type, uint sequence, int payloadLength)
    {
        _writeLock.Enter();
        try
        {
            ThrowIfGone("send stream data");
            return _writer.BeginFrame(_transport, new FrameHeader(DeviceClass, type, FrameFlags.Stream, sequence, payloadLength), payloadLength);
        }
        catch (Exception e)
        {
            _writer.CancelFrame();
            _writeLock.Exit();
            // A batch flush that failed here (a write the device never took) left a cut frame on the line, as in
            // EndStreamFrame: the connection is gone, so the owner re-opens it before the next use.
            if (e is DeviceException de)
            {
                MarkGone(de);
                throw Rethrow(de, "send stream data");
            }
            if (e is ObjectDisposedException or IOException)
            {
                var gone = new DeviceDisconnectedException(DeviceName, "send stream data", e);
                MarkGone(gone);
                throw gone;
            }
            throw;
        }
    }

    /// <summary>Seals the stream frame begun by <see cref="BeginStreamFrame"/>; with <paramref name="flush"/> writes the batch.</summary>
    public void EndStreamFrame(bool flush)
    {
        try
        {
            _writer.EndFrame();
            Interlocked.Increment(ref Counters.FramesSent);
            if (flush) _writer.Flush(_transport);
        }
        catch (DeviceException e)
        {
            MarkGone(e);
            throw Rethrow(e, "send stream data");
        }
        catch (Exception e) when (e is ObjectDisposedException or IOException)
        {
            var gone = new DeviceDisconnectedException(DeviceName, "send stream data", e);
            MarkGone(gone);
            throw gone;
        }
        finally
        {
            _writeLock.Exit();
        }
    }

    /// <summary>Writes any batched stream frames now.</summary>
    public void Flush()
    {
        lock (_writeLock)
        {
            try { _writer.Flush(_transport); }
            catch (DeviceException e)
            {
                MarkGone(e);
                throw Rethrow(e, "send stream data");
            }
            catch (Exception e) when (e is ObjectDisposedException or IOException)
            {
                var gone = new DeviceDisconnectedException(DeviceName, "send stream data", e);
                MarkGone(gone);
                throw gone;
            }
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        FailPending(new DeviceDisconnectedException(DeviceName, "use the connection", new ObjectDisposedException(nameof(DeviceConnection))));
        _transport.Dispose();
        if (Thread.CurrentThread != _reader) _reader.Join(TimeSpan.FromSeconds(5));
    }

    private void WriteFrame(FrameHeader header, ReadOnlySpan<byte> payload, string operation)
    {
        lock (_writeLock)
        {
            try
            {
                _writer.Append(_transport, header, payload);
                _writer.Flush(_transport);
                Interlocked.Increment(ref Counters.FramesSent);
            }
            catch (DeviceException e)
            {
                _writer.Clear();
                if (e is DeviceDisconnectedException) MarkGone(e);
                throw Rethrow(e, operation);
            }
            catch (Exception e) when (e is ObjectDisposedException or IOException)
            {
                // A transport closed under us (the connection is being disposed, or the device vanished mid-write).
                _writer.Clear();
                var gone = new DeviceDisconnectedException(DeviceName, operation, e);
                MarkGone(gone);
                throw gone;
            }
        }
    }

    private void ReadLoop()
    {
        byte[] buffer = new byte[_options.ReceiveBufferBytes];
        var handler = new Dispatcher(this);
        try
        {
            while (!_disposed)
            {
                int n = _transport.Read(buffer);
                if (n == 0)
                {
                    if (!_disposed) MarkGone(new DeviceDisconnectedException(DeviceName, "read", new EndOfStreamException("the transport closed")));
                    return;
                }
                _decoder.Push(buffer.AsSpan(0, n), handler);
            }
        }
        catch (DeviceException e)
        {
            if (!_disposed) MarkGone(e);
        }
        catch (Exception e)
        {
            // I/O errors, a consumer cancelled while we waited on it, or a fault in a receiver: in every case this
            // connection cannot go on. Never let it escape the thread (that would end the process).
            if (!_disposed) MarkGone(new DeviceDisconnectedException(DeviceName, "read", e));
        }
    }

    private void OnFrame(in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        if (header.IsStream)
        {
            Interlocked.Increment(ref Counters.StreamFrames);
            StreamReceiver?.OnStreamFrame(in header, payload);
        }
        else if (header.IsResponse)
        {
            if (_pending.TryGetValue(header.Sequence, out PendingRequest? pending) && pending.Type == header.Type)
                pending.Completion.TrySetResult(new Reply(header.IsNack, payload.ToArray()));
            else
                Interlocked.Increment(ref Counters.UnmatchedResponses);
        }
        else if (header.IsEvent)
        {
            Interlocked.Increment(ref Counters.Events);
            EventReceived?.Invoke(new DeviceEvent(header.Type, header.Sequence, payload.ToArray(), DateTimeOffset.UtcNow));
        }
        else
        {
            Interlocked.Increment(ref Counters.UnexpectedRequests);
        }
    }

    private void MarkGone(Exception cause)
    {
        var disconnect = cause as DeviceDisconnectedException ?? new DeviceDisconnectedException(DeviceName, "communicate", cause);
        Interlocked.CompareExchange(ref _disconnectCause, disconnect, null);
        FailPending(disconnect);
        if (Interlocked.Exchange(ref _disconnectRaised, 1) == 0) Disconnected?.Invoke(disconnect);
    }

    private void FailPending(Exception cause)
    {
        foreach (var pair in _pending)
            pair.Value.Completion.TrySetException(cause);
    }

    private void ThrowIfGone(string operation)
    {
        if (_disposed) throw new DeviceDisconnectedException(DeviceName, operation, new ObjectDisposedException(nameof(DeviceConnection)));
        if (_disconnectCause is { } cause) throw new DeviceDisconnectedException(DeviceName, operation, cause);
    }

    /// <summary>The transport's error, restated with the device's name and the caller's operation.</summary>
    private DeviceException Rethrow(DeviceException e, string operation) => e switch
    {
        DeviceDisconnectedException => new DeviceDisconnectedException(DeviceName, operation, e),
        DeviceTimeoutException t => new DeviceTimeoutException(DeviceName, operation, t.Timeout),
        _ => new DeviceException(DeviceName, operation, e.Cause, e),
    };

    private readonly record struct Reply(bool Nack, byte[] Payload);

    private sealed class PendingRequest(MessageType type)
    {
        public MessageType Type { get; } = type;

        public TaskCompletionSource<Reply> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class Dispatcher(DeviceConnection owner) : IFrameHandler
    {
        public void OnFrame(in FrameHeader header, ReadOnlySpan<byte> payload) => owner.OnFrame(in header, payload);
    }
}
