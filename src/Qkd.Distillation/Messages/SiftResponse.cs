using System.Runtime.CompilerServices;
using Qkd.Core;
using Qkd.Distillation.Protocol;
using IntensityClasses = Qkd.Core.Intensities;

namespace Qkd.Distillation.Messages;

/// <summary>
/// Alice → Bob, answering a <see cref="SiftRequest"/>: for each detection whether the bases matched (the record is
/// kept) and the intensity class Alice sent. Wire: the kept flags packed one bit each, then the intensity classes
/// packed two bits each, each list preceded by its count.
/// </summary>
/// <remarks>The flags and classes are views of the sender's or receiver's own buffers (one byte per detection).</remarks>
public readonly struct SiftResponse
{
    public const MessageType Type = MessageType.SiftResponse;

    /// <param name="kept">Per detection: 1 when the bases matched, else 0.</param>
    /// <param name="intensities">Per detection: its <see cref="Intensity"/> class.</param>
    public SiftResponse(ReadOnlyMemory<byte> kept, ReadOnlyMemory<byte> intensities)
    {
        if (kept.Length != intensities.Length)
            throw new ArgumentException($"{kept.Length} kept flags but {intensities.Length} intensity classes.", nameof(intensities));
        // Packed into one and two bits: a value out of range would reach Bob as a different one.
        if (kept.Span.IndexOfAnyExcept((byte)0, (byte)1) is var badFlag and >= 0)
            throw new ArgumentException($"Kept flag {kept.Span[badFlag]} at detection {badFlag} is neither 0 nor 1.", nameof(kept));
        if (intensities.Span.IndexOfAnyInRange((byte)IntensityClasses.Count, byte.MaxValue) is var badClass and >= 0)
            throw new ArgumentException($"Intensity class {intensities.Span[badClass]} at detection {badClass} does not exist.", nameof(intensities));
        Kept = kept;
        Intensities = intensities;
    }

    public ReadOnlyMemory<byte> Kept { get; }

    public ReadOnlyMemory<byte> Intensities { get; }

    public int Count => Kept.Length;

    /// <summary>Encodes the message into <paramref name="writer"/> (replacing what it held) and returns the bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public ReadOnlyMemory<byte> Write(ProtocolWriter writer)
    {
        writer.Begin(Type);
        writer.WritePacked(Kept.Span, 1);
        writer.WritePacked(Intensities.Span, 2);
        return writer.Message;
    }

    /// <summary>
    /// Decodes a sift response into the receiver's buffers, whose length is the most detections it may cover (the
    /// batch that was sent). The response returned views the start of each buffer.
    /// </summary>
    /// <exception cref="ProtocolException">Wrong type, truncated, trailing bytes, more detections than the buffers hold,
    /// lists of different lengths, or an intensity class that does not exist.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static SiftResponse Read(ReadOnlySpan<byte> message, Memory<byte> keptBuffer, Memory<byte> intensityBuffer)
    {
        var reader = new ProtocolReader(message, Type);
        int kept = reader.ReadPacked("kept flags", 1, keptBuffer.Span);
        int classes = reader.ReadPacked("intensities", 2, intensityBuffer.Span);
        reader.EnsureEnd(Type);
        if (kept != classes)
            throw new ProtocolException($"Sift response has {kept} kept flags but {classes} intensity classes.");
        var intensities = intensityBuffer.Span[..classes];
        if (intensities.IndexOfAnyInRange((byte)IntensityClasses.Count, byte.MaxValue) is var bad and >= 0)
            throw new ProtocolException($"Sift response names intensity class {intensities[bad]}.");
        return new SiftResponse(keptBuffer[..kept], intensityBuffer[..classes]);
    }

    /// <summary>
    /// Starts a reply of <paramref name="count"/> detections in <paramref name="writer"/> (replacing what it held) and
    /// returns its two lists' bytes for a kernel to fill in their wire form (<see cref="Sifting.SiftKernel.AliceSift"/>):
    /// <paramref name="kept"/> ceil(count / 8) bytes, <paramref name="classes"/> ceil(count / 4). Every byte must be
    /// written before <see cref="ProtocolWriter.Message"/> is sent; nothing else may be written to the writer meanwhile.
    /// </summary>
    internal static void Reserve(ProtocolWriter writer, int count, out Span<byte> kept, out Span<byte> classes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        int keptBytes = (count + 7) / 8, classBytes = (count + 3) / 4;
        writer.Begin(Type);
        writer.WriteVarInt64(count);
        // The second list's count sits between the two: a varint of at most 5 bytes for an int.
        Span<byte> span = writer.GetSpan(keptBytes + 5 + classBytes);
        int at = keptBytes;
        uint value = (uint)count;
        while (value >= 0x80)
        {
            span[at++] = (byte)(value | 0x80);
            value >>= 7;
        }
        span[at++] = (byte)value;
        kept = span[..keptBytes];
        classes = span.Slice(at, classBytes);
        writer.Advance(at + classBytes);
    }

    /// <summary>
    /// <see cref="Read"/> leaving both lists packed in the message, as Bob's sift kernel reads them: the same checks
    /// (at most <paramref name="maximumCount"/> detections, lists of one length, no class that does not exist). The kept
    /// flags start at byte <paramref name="keptAt"/> (one bit each), the classes at <paramref name="classesAt"/> (two bits
    /// each). Returns the count.
    /// </summary>
    internal static int ReadPacked(ReadOnlySpan<byte> message, int maximumCount, out int keptAt, out int classesAt)
    {
        var reader = new ProtocolReader(message, Type);
        int kept = reader.ReadPackedBytes("kept flags", 1, maximumCount, out keptAt);
        int classes = reader.ReadPackedBytes("intensities", 2, maximumCount, out classesAt);
        reader.EnsureEnd(Type);
        if (kept != classes)
            throw new ProtocolException($"Sift response has {kept} kept flags but {classes} intensity classes.");
        if (Sifting.SiftKernel.FirstInvalidClass(message[classesAt..], classes) >= 0)
            throw new ProtocolException($"Sift response names intensity class {IntensityClasses.Count}.");
        return kept;
    }
}
