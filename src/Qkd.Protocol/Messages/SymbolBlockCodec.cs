using System.Buffers.Binary;
using Qkd.Core;

namespace Qkd.Protocol.Messages;

/// <summary>
/// SymbolData stream payload (host to modulator): u64 index of the first pulse, then the symbols of consecutive pulses
/// packed two per byte, earlier pulse in the low nibble. A nibble is <see cref="PulseSymbol.Pack"/>: bit 0 basis
/// (0 Z, 1 X), bit 1 bit value, bits 2-3 intensity level (0 signal, 1 decoy, 2 vacuum; 3 is invalid and sent as vacuum
/// by the device, which counts it).
/// </summary>
public static class SymbolBlockCodec
{
    public const int HeaderLength = 8;

    /// <summary>Symbols in the largest SymbolData frame (131 024).</summary>
    public const int MaxSymbolsPerFrame = (ProtocolConstants.MaxPayloadLength - HeaderLength) * 2;

    /// <summary>Payload bytes for <paramref name="symbols"/> symbols (must be even).</summary>
    public static int PayloadLength(int symbols)
    {
        if (symbols < 0 || symbols % 2 != 0 || symbols > MaxSymbolsPerFrame)
            throw new ArgumentOutOfRangeException(nameof(symbols), symbols, $"A SymbolData frame carries an even number of symbols, at most {MaxSymbolsPerFrame}.");
        return HeaderLength + symbols / 2;
    }

    public static void WriteHeader(Span<byte> payload, long firstPulse) => BinaryPrimitives.WriteInt64LittleEndian(payload, firstPulse);

    /// <summary>Packs one symbol per byte (each a <see cref="PulseSymbol.Pack"/> value) two per byte.</summary>
    public static void Pack(ReadOnlySpan<byte> symbols, Span<byte> packed)
    {
        if (symbols.Length % 2 != 0) throw new ArgumentException("An even number of symbols is packed.", nameof(symbols));
        for (int i = 0, j = 0; i < symbols.Length; i += 2, j++)
            packed[j] = (byte)((symbols[i] & 0x0F) | (symbols[i + 1] << 4));
    }

    /// <summary>Reads the header; the packed symbols follow at <see cref="HeaderLength"/>.</summary>
    public static long ReadFirstPulse(ReadOnlySpan<byte> payload)
    {
        PayloadFormatException.Require(payload.Length >= HeaderLength, $"SymbolData: {payload.Length} bytes, at least {HeaderLength} expected.");
        long first = BinaryPrimitives.ReadInt64LittleEndian(payload);
        PayloadFormatException.Require(first >= 0, $"SymbolData: first pulse {first} is negative.");
        return first;
    }

    /// <summary>The symbol of the i-th pulse of a packed block.</summary>
    public static byte SymbolAt(ReadOnlySpan<byte> packed, long i) =>
        (byte)((packed[(int)(i >> 1)] >> (int)((i & 1) << 2)) & 0x0F);
}
