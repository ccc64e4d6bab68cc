using System.Buffers.Binary;

namespace Qkd.Protocol.Messages;

/// <summary>
/// RngEntropyData stream payload (random number generator to host): i64 offset, then the block's entropy bytes. The
/// offset is the position of the block's first byte in everything the noise source produced since the stream started,
/// bytes the device withheld (a failed health test) included. A block therefore follows the previous one without a gap
/// when its frame sequence number is one more and its offset is the previous offset plus the previous length; a jump
/// in the sequence number is blocks lost on the line, a jump in the offset alone is bytes the device withheld. Either
/// way the samples on both sides are not consecutive, which is what continuous health tests must know.
/// </summary>
public static class EntropyBlockCodec
{
    public const int HeaderLength = 8;

    /// <summary>Entropy bytes in the largest RngEntropyData frame (65 512).</summary>
    public const int MaxEntropyBytes = ProtocolConstants.MaxPayloadLength - HeaderLength;

    /// <summary>Payload bytes for a block of <paramref name="entropyBytes"/> (1 .. <see cref="MaxEntropyBytes"/>).</summary>
    public static int PayloadLength(int entropyBytes)
    {
        if (entropyBytes < 1 || entropyBytes > MaxEntropyBytes)
            throw new ArgumentOutOfRangeException(nameof(entropyBytes), entropyBytes, $"An entropy block holds 1..{MaxEntropyBytes} bytes.");
        return HeaderLength + entropyBytes;
    }

    /// <summary>Writes the header; the entropy bytes go at <see cref="HeaderLength"/>.</summary>
    public static void WriteHeader(Span<byte> payload, long offset)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        BinaryPrimitives.WriteInt64LittleEndian(payload, offset);
    }

    /// <summary>
    /// Reads a payload: returns the block's offset and, in <paramref name="entropy"/>, its bytes (a slice of
    /// <paramref name="payload"/>, no copy).
    /// </summary>
    /// <exception cref="PayloadFormatException">No entropy byte after the header, or a negative offset.</exception>
    public static long Read(ReadOnlySpan<byte> payload, out ReadOnlySpan<byte> entropy)
    {
        PayloadFormatException.Require(payload.Length > HeaderLength,
            $"RngEntropyData: {payload.Length} bytes, at least {HeaderLength + 1} expected (i64 offset, then at least one entropy byte).");
        long offset = BinaryPrimitives.ReadInt64LittleEndian(payload);
        PayloadFormatException.Require(offset >= 0, $"RngEntropyData: offset {offset} is negative.");
        entropy = payload[HeaderLength..];
        return offset;
    }
}
