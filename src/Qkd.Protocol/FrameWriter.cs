using Qkd.Protocol.Transport;

namespace Qkd.Protocol;

/// <summary>
/// Collects outgoing frames into one buffer so that many frames cost one transport write (a serial write costs about a
/// millisecond whatever its size; a USB transfer has a fixed overhead too). For byte streams each frame is COBS-encoded
/// and delimited; for packet transports frames are packed raw and a transfer never splits a frame. Reused: no
/// allocation per frame. Not thread-safe: the owner serialises access.
/// </summary>
public sealed class FrameWriter
{
    private readonly FramingKind _framing;
    private readonly int _maxBatch;
    private readonly byte[] _batch;
    private readonly byte[] _frame = new byte[ProtocolConstants.MaxFrameLength];
    private int _length;
    private int _pendingPayload = -1;
    private FrameHeader _pendingHeader;

    /// <param name="framing">The transport's framing.</param>
    /// <param name="maxBatchBytes">Flush threshold: the transport's largest write for packets, a buffer size for streams.</param>
    public FrameWriter(FramingKind framing, int maxBatchBytes)
    {
        int minimum = framing == FramingKind.Packet ? ProtocolConstants.MaxFrameLength : ProtocolConstants.MaxEncodedFrameLength + 1;
        if (maxBatchBytes < minimum)
            throw new ArgumentOutOfRangeException(nameof(maxBatchBytes), maxBatchBytes, $"A batch must hold the largest frame ({minimum} bytes).");
        _framing = framing;
        _maxBatch = maxBatchBytes;
        _batch = new byte[maxBatchBytes];
    }

    /// <summary>Bytes waiting for <see cref="Flush"/>.</summary>
    public int BufferedBytes => _length;

    /// <summary>Frames appended so far (all time).</summary>
    public long FramesWritten { get; private set; }

    /// <summary>Appends a frame; writes the batch to <paramref name="transport"/> first if the frame would not fit.</summary>
    public void Append(IFrameTransport transport, FrameHeader header, ReadOnlySpan<byte> payload)
    {
        BeginFrame(transport, header, payload.Length);
        payload.CopyTo(_framing == FramingKind.Packet ? _batch.AsSpan(_length + ProtocolConstants.HeaderLength) : _frame.AsSpan(ProtocolConstants.HeaderLength));
        EndFrame();
    }

    /// <summary>
    /// Starts a frame of <paramref name="payloadLength"/> bytes and returns the span to fill with its payload (so a
    /// producer writes records straight into the frame); finish with <see cref="EndFrame"/>.
    /// </summary>
    public Span<byte> BeginFrame(IFrameTransport transport, FrameHeader header, int payloadLength)
    {
        if (_pendingPayload >= 0) throw new InvalidOperationException("The previous frame was not ended.");
        if ((uint)payloadLength > ProtocolConstants.MaxPayloadLength)
            throw new ArgumentOutOfRangeException(nameof(payloadLength), payloadLength, $"A payload holds at most {ProtocolConstants.MaxPayloadLength} bytes.");
        int worst = _framing == FramingKind.Packet
            ? FrameCodec.FrameLength(payloadLength)
            : Cobs.MaxEncodedLength(FrameCodec.FrameLength(payloadLength)) + 1;
        if (_length + worst > _maxBatch) Flush(transport);
        _pendingHeader = header with { PayloadLength = payloadLength };
        _pendingPayload = payloadLength;
        Span<byte> frame = _framing == FramingKind.Packet ? _batch.AsSpan(_length) : _frame;
        _pendingHeader.WriteTo(frame);
        return frame.Slice(ProtocolConstants.HeaderLength, payloadLength);
    }

    /// <summary>Seals the frame started by <see cref="BeginFrame"/> (CRC, and encoding on byte streams).</summary>
    public void EndFrame()
    {
        if (_pendingPayload < 0) throw new InvalidOperationException("No frame was begun.");
        int frameLength = FrameCodec.FrameLength(_pendingPayload);
        if (_framing == FramingKind.Packet)
        {
            FrameCodec.Seal(_batch.AsSpan(_length, frameLength));
            _length += frameLength;
        }
        else
        {
            FrameCodec.Seal(_frame.AsSpan(0, frameLength));
            _length += Cobs.Encode(_frame.AsSpan(0, frameLength), _batch.AsSpan(_length));
            _batch[_length++] = ProtocolConstants.Delimiter;
        }
        _pendingPayload = -1;
        FramesWritten++;
    }

    /// <summary>Abandons a frame begun but not ended (its producer failed); nothing of it is sent.</summary>
    public void CancelFrame() => _pendingPayload = -1;

    /// <summary>Writes everything buffered to the transport in one call.</summary>
    public void Flush(IFrameTransport transport)
    {
        if (_length == 0) return;
        int length = _length;
        _length = 0; // even if the write fails: a half-sent batch must not be sent again after a reconnect
        transport.Write(_batch.AsSpan(0, length));
    }

    /// <summary>Drops everything buffered (after a disconnect).</summary>
    public void Clear()
    {
        _length = 0;
        _pendingPayload = -1;
    }
}
