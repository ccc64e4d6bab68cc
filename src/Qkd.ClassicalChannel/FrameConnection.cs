using System.Buffers.Binary;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Qkd.ClassicalChannel;

/// <summary>
/// One TCP connection of the classical channel, carrying whole frames: <c>u32 body length | body</c>, little-endian.
/// It knows nothing of what a body holds beyond its size limits (at least a header and a tag, at most the largest
/// message plus those); the layers above fill and check the bodies.
/// </summary>
internal sealed class FrameConnection
{
    public const int LengthPrefixBytes = 4;

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly int _maxBodyBytes;
    private readonly ChannelEnd _local;
    private readonly ChannelSecurityCounters _security;
    private readonly ILogger _logger;
    private readonly byte[] _prefix = new byte[LengthPrefixBytes];

    /// <param name="socket">A connected socket; the connection owns it from here on.</param>
    /// <param name="maxMessageBytes">The largest payload a frame may carry (a longer length prefix is malformed).</param>
    public FrameConnection(Socket socket, int maxMessageBytes, ChannelEnd local, ChannelSecurityCounters security, ILogger logger)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _maxBodyBytes = maxMessageBytes + FrameHeader.Overhead;
        _local = local;
        _security = security;
        _logger = logger;
    }

    /// <summary>
    /// A frame buffer with its length prefix already written; the body (after <see cref="LengthPrefixBytes"/>) is the
    /// caller's to fill. One buffer, so the frame goes out in a single write.
    /// </summary>
    public static byte[] NewFrame(int bodyBytes)
    {
        var frame = new byte[LengthPrefixBytes + bodyBytes];
        BinaryPrimitives.WriteInt32LittleEndian(frame, bodyBytes);
        return frame;
    }

    /// <summary>
    /// The next frame's body; null when the connection ended (cleanly between frames, or inside one) or the length
    /// prefix is impossible. Damaged framing is counted here: the stream can no longer be trusted to be in step, so the
    /// caller drops the connection.
    /// </summary>
    public async ValueTask<byte[]?> ReadFrameAsync(CancellationToken cancellationToken)
    {
        int got = await ReadUpToAsync(_prefix, cancellationToken).ConfigureAwait(false);
        if (got == 0) return null; // clean end between frames
        if (got < _prefix.Length)
        {
            _security.CountRejected(FrameRejection.Truncated);
            return null;
        }
        int length = BinaryPrimitives.ReadInt32LittleEndian(_prefix);
        if (length < FrameHeader.Overhead)
        {
            _security.CountRejected(FrameRejection.Truncated);
            return null;
        }
        if (length > _maxBodyBytes)
        {
            // Refused before allocating: a forged prefix must not make this end reserve gigabytes.
            _security.CountRejected(FrameRejection.Malformed);
            return null;
        }
        var body = new byte[length];
        if (await ReadUpToAsync(body, cancellationToken).ConfigureAwait(false) < length)
        {
            _security.CountRejected(FrameRejection.Truncated);
            return null;
        }
        _security.CountWireReceived(length + LengthPrefixBytes);
        return body;
    }

    /// <summary>
    /// Writes a whole frame (from <see cref="NewFrame"/>); false, with the connection aborted, when the write fails.
    /// <paramref name="stop"/> must be the channel's stop, never a caller's token: a write cancelled half way would
    /// leave a partial frame on the stream, which only a dying connection may do.
    /// </summary>
    public async ValueTask<bool> WriteFrameAsync(byte[] frame, CancellationToken stop)
    {
        try
        {
            await _stream.WriteAsync(frame, stop).ConfigureAwait(false);
            _security.CountWireSent(frame.Length);
            return true;
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            _logger.LogDebug("Classical channel ({End}): write failed, connection dropped: {Error}", _local, e.Message);
            Abort();
            return false;
        }
    }

    /// <summary>Closes at once (no lingering): pending reads and writes on this connection fail.</summary>
    public void Abort()
    {
        try { _socket.Close(0); } catch (ObjectDisposedException) { }
        _stream.Dispose();
    }

    private async ValueTask<int> ReadUpToAsync(byte[] buffer, CancellationToken cancellationToken)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = await _stream.ReadAsync(buffer.AsMemory(total), cancellationToken).ConfigureAwait(false);
            if (n == 0) break;
            total += n;
        }
        return total;
    }
}
