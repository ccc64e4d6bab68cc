namespace Qkd.Protocol;

/// <summary>
/// Byte-stream framing (serial, pty, pipes): COBS-encoded frames separated by 0x00. Bytes accumulate until a
/// delimiter, then the frame is decoded and checked; anything wrong is counted and the decoder carries on at the next
/// delimiter, so one corrupted byte costs one frame. A frame that grows past the largest possible encoding is cut
/// off and the rest of it discarded up to its delimiter, so garbage without delimiters cannot make memory grow.
/// Empty frames (two delimiters in a row) are allowed as line padding and ignored.
/// </summary>
public sealed class StreamFrameDecoder : IFrameDecoder
{
    private readonly byte[] _encoded = new byte[ProtocolConstants.MaxEncodedFrameLength];
    // As large as the largest encoding (a decoding is never longer than its encoding), not the largest frame: a validly
    // encoded frame that is too long must decode and then be rejected as TooLong, not miscounted as BadEncoding.
    private readonly byte[] _frame = new byte[ProtocolConstants.MaxEncodedFrameLength];
    private int _buffered;
    private bool _discarding;

    public FrameDecoderCounters Counters { get; } = new();

    public void Push<THandler>(ReadOnlySpan<byte> received, THandler handler) where THandler : IFrameHandler
    {
        Counters.BytesReceived += received.Length;
        while (!received.IsEmpty)
        {
            int delimiter = received.IndexOf(ProtocolConstants.Delimiter);
            if (delimiter < 0)
            {
                Accumulate(received);
                return;
            }
            ReadOnlySpan<byte> tail = received[..delimiter];
            received = received[(delimiter + 1)..];
            if (_discarding)
            {
                Counters.BytesDiscarded += tail.Length + 1;
                _discarding = false;
                _buffered = 0;
                continue;
            }
            if (_buffered == 0)
            {
                Complete(tail, handler); // the common case: the whole frame is in this read, no copy
                continue;
            }
            if (!Accumulate(tail))
            {
                Counters.BytesDiscarded += 1;
                _discarding = false;
                _buffered = 0;
                continue;
            }
            Complete(_encoded.AsSpan(0, _buffered), handler);
            _buffered = 0;
        }
    }

    public void Reset()
    {
        Counters.BytesDiscarded += _buffered;
        _buffered = 0;
        _discarding = false;
    }

    /// <summary>Appends to the partial frame; false (and discard mode) when it would exceed the largest encoding.</summary>
    private bool Accumulate(ReadOnlySpan<byte> bytes)
    {
        if (_discarding)
        {
            Counters.BytesDiscarded += bytes.Length;
            return false;
        }
        if (_buffered + bytes.Length > _encoded.Length)
        {
            Counters.TooLong++;
            Counters.BytesDiscarded += _buffered + bytes.Length;
            _buffered = 0;
            _discarding = true;
            return false;
        }
        bytes.CopyTo(_encoded.AsSpan(_buffered));
        _buffered += bytes.Length;
        return true;
    }

    private void Complete<THandler>(ReadOnlySpan<byte> encoded, THandler handler) where THandler : IFrameHandler
    {
        if (encoded.IsEmpty) return;
        if (encoded.Length > _encoded.Length)
        {
            Reject(FrameError.TooLong, encoded.Length);
            return;
        }
        int length = Cobs.Decode(encoded, _frame);
        if (length < 0)
        {
            Reject(FrameError.BadEncoding, encoded.Length);
            return;
        }
        FrameError error = FrameCodec.TryDecode(_frame.AsSpan(0, length), out FrameHeader header, out ReadOnlySpan<byte> payload);
        if (error != FrameError.None)
        {
            Reject(error, encoded.Length);
            return;
        }
        Counters.FramesAccepted++;
        handler.OnFrame(in header, payload);
    }

    private void Reject(FrameError error, int bytes)
    {
        Counters.Count(error);
        Counters.BytesDiscarded += bytes + 1;
    }
}
