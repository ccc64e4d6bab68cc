// PRE-CHANGE BASELINE (issue 14, sifting): a verbatim copy of the product code as it was before the sifting rewrite,
// renamed, used only by the benchmarks to time the old code against the new in the same run. Not product code.
using System.Runtime.CompilerServices;
using Qkd.Core;
using Qkd.Distillation.Protocol;

namespace Qkd.Reference;
using Qkd.Distillation;
using Qkd.Distillation.Messages;

/// <summary>
/// Bob → Alice: the pulse indices of a batch of detections and the basis Bob measured each in (never his bit).
/// Wire: detection count; the first pulse index, then the gap to each following one (the gaps of a dense click
/// stream take a byte or two where the absolute indices would take five); then the bases packed one bit each.
/// </summary>
/// <remarks>
/// The pulses and bases are views of the sender's or receiver's own buffers: a batch is encoded from them and decoded
/// into them without an intermediate copy. Alice checks that a batch continues after the previous one; within a batch
/// the strict order is part of the encoding, so <see cref="Read"/> enforces it.
/// </remarks>
public readonly struct PreSiftRequest
{
    public const MessageType Type = MessageType.SiftRequest;

    /// <param name="pulses">Strictly increasing, non-negative pulse indices.</param>
    /// <param name="bases">One <see cref="Basis"/> value (0 = Z, 1 = X) per pulse.</param>
    public PreSiftRequest(ReadOnlyMemory<long> pulses, ReadOnlyMemory<byte> bases)
    {
        if (pulses.Length != bases.Length)
            throw new ArgumentException($"{pulses.Length} pulses but {bases.Length} bases.", nameof(bases));
        // The bases are packed one bit each: any other value would be sent as a different basis.
        if (bases.Span.IndexOfAnyExcept((byte)Basis.Z, (byte)Basis.X) is var bad and >= 0)
            throw new ArgumentException($"Basis {bases.Span[bad]} at detection {bad} is neither Z (0) nor X (1).", nameof(bases));
        Pulses = pulses;
        Bases = bases;
    }

    public ReadOnlyMemory<long> Pulses { get; }

    public ReadOnlyMemory<byte> Bases { get; }

    public int Count => Pulses.Length;

    /// <summary>Encodes the message into <paramref name="writer"/> (replacing what it held) and returns the bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public ReadOnlyMemory<byte> Write(ProtocolWriter writer)
    {
        var pulses = Pulses.Span;
        writer.Begin(Type);
        writer.WriteVarInt64(pulses.Length);
        // Every gap straight into the writer's memory (at most 10 bytes each); most take one byte.
        Span<byte> span = writer.GetSpan(checked(pulses.Length * 10));
        int at = 0;
        long previous = -1;
        for (int i = 0; i < pulses.Length; i++)
        {
            long pulse = pulses[i];
            // A gap of zero or less has no encoding: the receiver would read a repeated or reordered pulse.
            if (pulse <= previous)
                throw new ArgumentException($"Pulse {pulse} at detection {i} does not follow pulse {previous}; pulse indices must be strictly increasing and non-negative.");
            ulong gap = (ulong)(i == 0 ? pulse : pulse - previous);
            previous = pulse;
            if (gap < 0x80)
                span[at++] = (byte)gap;
            else
            {
                while (gap >= 0x80)
                {
                    span[at++] = (byte)(gap | 0x80);
                    gap >>= 7;
                }
                span[at++] = (byte)gap;
            }
        }
        writer.Advance(at);
        writer.WritePacked(Bases.Span, 1);
        return writer.Message;
    }

    /// <summary>Decodes a sift request into the receiver's reusable buffers.</summary>
    /// <param name="pulseBuffer">Holds the decoded pulses; replaced by a larger array when the batch does not fit.</param>
    /// <param name="basisBuffer">Holds the decoded bases; replaced by a larger array when the batch does not fit.</param>
    /// <exception cref="ProtocolException">Wrong type, truncated, trailing bytes, a count beyond
    /// <see cref="DistillationOptions.MaxSiftBatchSize"/> or the message's size, or pulses out of order.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static PreSiftRequest Read(ReadOnlySpan<byte> message, ref long[] pulseBuffer, ref byte[] basisBuffer)
    {
        var reader = new ProtocolReader(message, Type);
        // Every pulse takes at least a byte, so a count the message cannot hold is refused before a buffer grows for it.
        int count = reader.ReadCount("detection count", DistillationOptions.MaxSiftBatchSize, minimumBytesEach: 1);
        if (pulseBuffer.Length < count) pulseBuffer = new long[count];
        if (basisBuffer.Length < count) basisBuffer = new byte[count];

        var pulses = pulseBuffer.AsSpan(0, count);
        long previous = -1;
        // One- and two-byte gaps (nearly all of them) decoded here; longer ones, and a truncated message, by the reader.
        var data = reader.Unread;
        int at = 0;
        for (int i = 0; i < count; i++)
        {
            long gap;
            if ((uint)at < (uint)data.Length && data[at] < 0x80)
                gap = data[at++];
            else if ((uint)(at + 1) < (uint)data.Length && data[at + 1] < 0x80)
            {
                gap = (data[at] & 0x7F) | (data[at + 1] << 7);
                at += 2;
            }
            else
            {
                reader.Skip(at);
                gap = reader.ReadVarInt64("pulse delta");
                data = reader.Unread;
                at = 0;
            }
            if (i > 0 && gap == 0)
                throw new ProtocolException($"Sift request repeats or reorders pulse {previous} (after pulse {previous}); detections must be strictly increasing.");
            if (i > 0 && gap > long.MaxValue - previous)
                throw new ProtocolException($"Sift request pulse delta {gap} after pulse {previous} overflows the pulse index.");
            long pulse = i == 0 ? gap : previous + gap;
            pulses[i] = pulse;
            previous = pulse;
        }
        reader.Skip(at);
        int basisCount = reader.ReadPacked("bases", 1, basisBuffer.AsSpan(0, count));
        if (basisCount != count)
            throw new ProtocolException($"Sift request lists {count} pulses but {basisCount} bases.");
        reader.EnsureEnd(Type);
        return new PreSiftRequest(pulseBuffer.AsMemory(0, count), basisBuffer.AsMemory(0, count));
    }
}
