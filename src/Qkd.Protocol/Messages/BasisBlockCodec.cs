using System.Buffers.Binary;
using Qkd.Core;

namespace Qkd.Protocol.Messages;

/// <summary>
/// DetectorBasisData stream payload (host to a detector with an active basis modulator): i64 index of the first basis
/// in the pattern (pattern index 0 is the pulse slot the device marks with its basis marker), then the basis of
/// consecutive pulse slots, one bit each, eight per byte, the earlier slot in the least significant bit: 0 Z, 1 X.
/// </summary>
/// <remarks>
/// One bit per pulse, not a nibble as for Alice's symbols: Bob chooses only a basis, and at 1 GHz the stream is
/// 125 MB/s instead of 500 MB/s.
/// </remarks>
public static class BasisBlockCodec
{
    public const int HeaderLength = 8;

    /// <summary>Bases in the largest DetectorBasisData frame (524 096).</summary>
    public const int MaxBasesPerFrame = (ProtocolConstants.MaxPayloadLength - HeaderLength) * 8;

    /// <summary>Payload bytes for <paramref name="bases"/> bases (a multiple of 8).</summary>
    public static int PayloadLength(int bases)
    {
        if (bases < 0 || bases % 8 != 0 || bases > MaxBasesPerFrame)
            throw new ArgumentOutOfRangeException(nameof(bases), bases, $"A DetectorBasisData frame carries a multiple of 8 bases, at most {MaxBasesPerFrame}.");
        return HeaderLength + bases / 8;
    }

    public static void WriteHeader(Span<byte> payload, long firstIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(firstIndex);
        BinaryPrimitives.WriteInt64LittleEndian(payload, firstIndex);
    }

    /// <summary>Reads the header; the packed bits follow at <see cref="HeaderLength"/>.</summary>
    public static long ReadFirstIndex(ReadOnlySpan<byte> payload)
    {
        PayloadFormatException.Require(payload.Length >= HeaderLength, $"DetectorBasisData: {payload.Length} bytes, at least {HeaderLength} expected.");
        long first = BinaryPrimitives.ReadInt64LittleEndian(payload);
        PayloadFormatException.Require(first >= 0, $"DetectorBasisData: first index {first} is negative.");
        return first;
    }

    /// <summary>The basis of the i-th slot of a packed block.</summary>
    public static Basis BasisAt(ReadOnlySpan<byte> packed, long i) => (Basis)((packed[(int)(i >> 3)] >> (int)(i & 7)) & 1);

    /// <summary>Packs one basis per element into bits (a multiple of 8 bases).</summary>
    public static void Pack(ReadOnlySpan<Basis> bases, Span<byte> packed)
    {
        if (bases.Length % 8 != 0) throw new ArgumentException("A multiple of 8 bases is packed.", nameof(bases));
        for (int j = 0; j < bases.Length / 8; j++)
        {
            int b = 0;
            for (int k = 0; k < 8; k++) b |= ((int)bases[8 * j + k] & 1) << k;
            packed[j] = (byte)b;
        }
    }
}
