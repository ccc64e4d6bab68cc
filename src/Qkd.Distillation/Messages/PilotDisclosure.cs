using Qkd.Core;
using Qkd.Distillation.Protocol;

namespace Qkd.Distillation.Messages;

/// <summary>
/// Alice → Bob: the basis and bit of every pilot pulse 0 .. n - 1, public from now on (those pulses are never key; their
/// intensities stay Alice's). Wire: the count n, then n values of two bits each, packed densely (bit 0 the basis,
/// 0 = Z and 1 = X; bit 1 the bit), as <see cref="ProtocolWriter.WritePacked"/> lays them out.
/// </summary>
/// <remarks>The symbols are a view of the sender's or the receiver's own buffer (value = basis | bit &lt;&lt; 1).</remarks>
public readonly struct PilotDisclosure
{
    public const MessageType Type = MessageType.PilotDisclosure;

    /// <param name="symbols">One value per pilot pulse: <c>basis | bit &lt;&lt; 1</c>.</param>
    public PilotDisclosure(ReadOnlyMemory<byte> symbols)
    {
        if (symbols.Span.IndexOfAnyExceptInRange((byte)0, (byte)3) is var bad and >= 0)
            throw new ArgumentException($"Pilot symbol {symbols.Span[bad]} of pulse {bad} is not basis | bit << 1.", nameof(symbols));
        Symbols = symbols;
    }

    public ReadOnlyMemory<byte> Symbols { get; }

    public int Count => Symbols.Length;

    /// <summary>The value the disclosure carries for <paramref name="symbol"/>.</summary>
    public static byte ValueOf(PulseSymbol symbol) => (byte)((byte)symbol.Basis | (symbol.Bit << 1));

    /// <summary>Encodes the message into <paramref name="writer"/> (replacing what it held) and returns the bytes.</summary>
    public ReadOnlyMemory<byte> Write(ProtocolWriter writer)
    {
        writer.Begin(Type);
        writer.WritePacked(Symbols.Span, 2);
        return writer.Message;
    }

    /// <summary>Decodes a disclosure of exactly the <paramref name="destination"/>'s length (the announced pilot).</summary>
    /// <exception cref="ProtocolException">Wrong type, truncated, trailing bytes, or another number of pulses than the pilot's.</exception>
    public static PilotDisclosure Read(ReadOnlySpan<byte> message, Memory<byte> destination)
    {
        var reader = new ProtocolReader(message, Type);
        int count = reader.ReadPacked("pilot symbols", 2, destination.Span);
        reader.EnsureEnd(Type);
        if (count != destination.Length)
            throw new ProtocolException($"Pilot disclosure holds {count} pulses; the announced pilot has {destination.Length}.");
        return new PilotDisclosure(destination[..count]);
    }
}
