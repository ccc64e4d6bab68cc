// PRE-CHANGE BASELINE (issue 14, sifting): a verbatim copy of the product code as it was before the sifting rewrite,
// renamed, used only by the benchmarks to time the old code against the new in the same run. Not product code.
using System.Runtime.CompilerServices;
using Qkd.Core;
using Qkd.Distillation.Protocol;
using IntensityClasses = Qkd.Core.Intensities;

namespace Qkd.Reference;
using Qkd.Distillation.Messages;

/// <summary>
/// Alice → Bob, answering a <see cref="SiftRequest"/>: for each detection whether the bases matched (the record is
/// kept) and the intensity class Alice sent. Wire: the kept flags packed one bit each, then the intensity classes
/// packed two bits each, each list preceded by its count.
/// </summary>
/// <remarks>The flags and classes are views of the sender's or receiver's own buffers (one byte per detection).</remarks>
public readonly struct PreSiftResponse
{
    public const MessageType Type = MessageType.SiftResponse;

    /// <param name="kept">Per detection: 1 when the bases matched, else 0.</param>
    /// <param name="intensities">Per detection: its <see cref="Intensity"/> class.</param>
    public PreSiftResponse(ReadOnlyMemory<byte> kept, ReadOnlyMemory<byte> intensities)
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
    public static PreSiftResponse Read(ReadOnlySpan<byte> message, Memory<byte> keptBuffer, Memory<byte> intensityBuffer)
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
        return new PreSiftResponse(keptBuffer[..kept], intensityBuffer[..classes]);
    }
}
