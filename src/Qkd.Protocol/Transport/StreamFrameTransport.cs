using System.Diagnostics.CodeAnalysis;

namespace Qkd.Protocol.Transport;

/// <summary>
/// A byte-stream transport over any <see cref="Stream"/>: a duplex stream to in-process emulated firmware
/// (Nerdbank.Streams FullDuplexStream.CreatePair), the master of a pseudo-terminal, a pipe or a socket.
/// Framing is <see cref="FramingKind.ByteStream"/>: the stream keeps no message boundaries.
/// </summary>
/// <remarks>
/// A byte stream learns that its peer is gone in one of two ways: a read returns end of stream, or a call fails with
/// an IOException. The first is an orderly close (Read returns 0, and from then on Write throws
/// <see cref="DeviceDisconnectedException"/> because nobody will ever read what we send); the second is a vanished
/// device (<see cref="DeviceDisconnectedException"/> from whichever call saw it). After our own Dispose, Read returns
/// 0, so a reader thread ends quietly.
/// <para>Waking a blocked call on Dispose: disposing a pipe-backed stream (FullDuplexStream) does not wake a read
/// already waiting on it, so for streams with their own asynchronous implementation the transport waits on
/// ReadAsync/WriteAsync with a token that Dispose cancels (through a reused buffer, since a Span cannot cross an
/// await). Streams that only implement the synchronous calls (the pseudo-terminal master) are called synchronously;
/// their Dispose must wake their own blocked calls, as the pseudo-terminal's does.</para>
/// </remarks>
public sealed class StreamFrameTransport : IFrameTransport
{
    private readonly Stream _read;
    private readonly Stream _write;
    private readonly bool _ownsStreams;
    private readonly bool _readAsyncNative;
    private readonly bool _writeAsyncNative;
    private readonly CancellationTokenSource _disposing = new();
    private byte[] _readScratch = [];
    private byte[] _writeScratch = [];
    private volatile bool _endOfStream;
    private volatile bool _disposed;

    /// <summary>Largest single read through the scratch buffer (one 64 KiB USB-sized frame's worth).</summary>
    private const int MaxScratchRead = 64 * 1024;

    /// <summary>A transport over one duplex stream (both readable and writable).</summary>
    /// <param name="duplex">Read and written; must support both.</param>
    /// <param name="description">What the stream leads to, for errors: "emulated time tagger (in process)", "pty /dev/pts/3 master".</param>
    /// <param name="ownsStream">Dispose the stream when the transport is disposed.</param>
    public StreamFrameTransport(Stream duplex, string description, bool ownsStream = true)
        : this(duplex, duplex, description, ownsStream)
    {
    }

    /// <summary>A transport over a pair of one-way streams (e.g. a process's stdout and stdin).</summary>
    public StreamFrameTransport(Stream readFrom, Stream writeTo, string description, bool ownsStreams = true)
    {
        ArgumentNullException.ThrowIfNull(readFrom);
        ArgumentNullException.ThrowIfNull(writeTo);
        ArgumentException.ThrowIfNullOrWhiteSpace(description);
        if (!readFrom.CanRead)
            throw new ArgumentException($"{description}: the stream to read from is not readable", nameof(readFrom));
        if (!writeTo.CanWrite)
            throw new ArgumentException($"{description}: the stream to write to is not writable", nameof(writeTo));
        _read = readFrom;
        _write = writeTo;
        _ownsStreams = ownsStreams;
        Description = description;
        _readAsyncNative = Overrides(readFrom.GetType(), nameof(Stream.ReadAsync), typeof(Memory<byte>));
        _writeAsyncNative = Overrides(writeTo.GetType(), nameof(Stream.WriteAsync), typeof(ReadOnlyMemory<byte>));
    }

    public string Description { get; }

    public FramingKind Framing => FramingKind.ByteStream;

    public int MaxWriteLength => int.MaxValue;

    /// <summary>Whether a read has seen the peer close the stream.</summary>
    public bool EndOfStream => _endOfStream;

    public int Read(Span<byte> buffer)
    {
        if (_disposed || _endOfStream || buffer.IsEmpty)
            return 0;
        try
        {
            int n = _readAsyncNative ? ReadCancellable(buffer) : _read.Read(buffer);
            if (n == 0)
                _endOfStream = true;
            return n;
        }
        catch (Exception) when (_disposed)
        {
            // Our own Dispose closed the stream under a blocked read: an orderly end, whatever the stream threw.
            return 0;
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            throw new DeviceDisconnectedException(Description, "read", e);
        }
    }

    public void Write(ReadOnlySpan<byte> data)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_endOfStream)
            throw new DeviceDisconnectedException(Description, $"write of {data.Length} bytes (the peer closed the stream)");
        try
        {
            // Pipe-backed streams (FullDuplexStream) hand bytes to the reader only on flush.
            if (_writeAsyncNative)
            {
                WriteCancellable(data);
            }
            else
            {
                _write.Write(data);
                _write.Flush();
            }
        }
        catch (OperationCanceledException e) when (_disposed)
        {
            throw new ObjectDisposedException($"{Description}: the transport was disposed during a write", e);
        }
        catch (Exception e) when ((e is IOException or ObjectDisposedException) && !_disposed)
        {
            throw new DeviceDisconnectedException(Description, $"write of {data.Length} bytes", e);
        }
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _disposing.Cancel();
        if (!_ownsStreams)
            return;
        _read.Dispose();
        if (!ReferenceEquals(_read, _write))
            _write.Dispose();
    }

    public override string ToString() => Description;

    private int ReadCancellable(Span<byte> buffer)
    {
        int want = Math.Min(buffer.Length, MaxScratchRead);
        if (_readScratch.Length < want)
            _readScratch = new byte[want];
        ValueTask<int> pending = _read.ReadAsync(_readScratch.AsMemory(0, want), _disposing.Token);
        int n = pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
        _readScratch.AsSpan(0, n).CopyTo(buffer);
        return n;
    }

    private void WriteCancellable(ReadOnlySpan<byte> data)
    {
        if (_writeScratch.Length < data.Length)
            _writeScratch = new byte[Math.Max(data.Length, 2 * _writeScratch.Length)];
        data.CopyTo(_writeScratch);
        Wait(_write.WriteAsync(_writeScratch.AsMemory(0, data.Length), _disposing.Token));
        Wait(new ValueTask(_write.FlushAsync(_disposing.Token)));

        static void Wait(ValueTask pending)
        {
            if (!pending.IsCompletedSuccessfully)
                pending.AsTask().GetAwaiter().GetResult();
        }
    }

    /// <summary>Whether <paramref name="type"/> has its own async implementation rather than Stream's thread-pool one.</summary>
    [UnconditionalSuppressMessage("Trimming", "IL2070", Justification =
        "Only overrides of Stream.ReadAsync/WriteAsync(Memory, CancellationToken) are looked up: the transport calls those " +
        "virtual slots on this very stream, so trimming keeps every override it can reach. Were one's metadata missing, the " +
        "lookup finds Stream's own method (or none) and the transport uses the synchronous Read/Write, which is correct, " +
        "only not cancellable while blocked.")]
    private static bool Overrides(Type type, string method, Type memoryType) =>
        type.GetMethod(method, [memoryType, typeof(CancellationToken)])?.DeclaringType is { } declaring
        && declaring != typeof(Stream);
}
