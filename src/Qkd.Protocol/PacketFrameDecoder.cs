namespace Qkd.Protocol;

/// <summary>
/// Packet framing (USB bulk): a transfer holds whole raw frames back to back. Each frame's length comes from its
/// header and is trusted only after its CRC checks; after a bad frame the rest of the transfer is discarded (its
/// boundaries can no longer be trusted) and counted, and decoding resumes with the next transfer.
/// </summary>
public sealed class PacketFrameDecoder : IFrameDecoder
{
    public FrameDecoderCounters Counters { get; } = new();

    public void Push<THandler>(ReadOnlySpan<byte> received, THandler handler) where THandler : IFrameHandler
    {
        Counters.BytesReceived += received.Length;
        while (!received.IsEmpty)
        {
            int length = FrameCodec.DeclaredFrameLength(received);
            FrameError error;
            if (length < 0)
                error = received.Length < ProtocolConstants.HeaderLength ? FrameError.TooShort : FrameError.TooLong;
            else if (length > received.Length)
                error = FrameError.LengthMismatch;
            else
            {
                error = FrameCodec.TryDecode(received[..length], out FrameHeader header, out ReadOnlySpan<byte> payload);
                if (error == FrameError.None)
                {
                    Counters.FramesAccepted++;
                    handler.OnFrame(in header, payload);
                    received = received[length..];
                    continue;
                }
            }
            Counters.Count(error);
            Counters.BytesDiscarded += received.Length;
            return;
        }
    }

    public void Reset()
    {
    }
}
