using Qkd.Core;
using Qkd.Core.Symbols;
using Qkd.Distillation.Protocol;
using Qkd.Distillation.Sifting;

namespace Qkd.Reference;

/// <summary>
/// The sifting path as it was before the batch kernels (commit ca8d5fd), kept verbatim as the reference: the property
/// tests compare the kernels with it on random batches, and the benchmarks report the kernels' speed-up over it in
/// the same run. Linked into Qkd.Distillation.Tests and Qkd.Benchmarks; not product code.
/// </summary>
public static class ReferenceSifting
{
    /// <summary>Alice's loop of AliceDistiller.HandleSift: one symbol lookup, comparison and append per detection.</summary>
    public static void AliceMatch(ISymbolSource source, ReadOnlySpan<long> pulses, ReadOnlySpan<byte> bases,
        Span<byte> keep, Span<byte> intensities, SiftedBuffer z, SiftedBuffer x, SiftingStatistics sifting)
    {
        SiftedBuffer[] sifted = [z, x];
        for (int i = 0; i < pulses.Length; i++)
        {
            PulseSymbol symbol = source.SymbolAt(pulses[i]);
            intensities[i] = (byte)symbol.Intensity;
            sifting.CountDetection(symbol.Intensity);
            if ((byte)symbol.Basis == bases[i])
            {
                keep[i] = 1;
                sifted[(int)symbol.Basis].Append(symbol.Bit, symbol.Intensity);
                sifting.CountSifted(symbol.Basis, symbol.Intensity);
            }
            else
                keep[i] = 0;
        }
    }

    /// <summary>The block bookkeeping Bob's loop did per Z record.</summary>
    public sealed class BobBlocks(long blockSizeBits)
    {
        public long ZAppended, XAppended, BlockStartPulse = -1, LastZPulse = -1;
        public readonly Queue<long> XTotalAtBlockEnd = new(), PulseAtBlockEnd = new();
        public long BlockSizeBits { get; } = blockSizeBits;
    }

    /// <summary>Bob's loop of BobDistiller.ReadSiftResponse.</summary>
    public static void BobSort(ReadOnlySpan<Detection> batch, ReadOnlySpan<byte> keep, ReadOnlySpan<byte> intensities,
        SiftedBuffer z, SiftedBuffer x, SiftingStatistics sifting, BobBlocks blocks)
    {
        SiftedBuffer[] sifted = [z, x];
        for (int i = 0; i < batch.Length; i++)
        {
            var intensity = (Intensity)intensities[i];
            sifting.CountDetection(intensity);
            if (keep[i] == 1)
            {
                sifted[(int)batch[i].Basis].Append(batch[i].Bit, intensity);
                sifting.CountSifted(batch[i].Basis, intensity);
                if (batch[i].Basis == Basis.X)
                    blocks.XAppended++;
                else
                {
                    if (blocks.BlockStartPulse < 0) blocks.BlockStartPulse = batch[i].PulseIndex;
                    blocks.LastZPulse = batch[i].PulseIndex;
                    if (++blocks.ZAppended % blocks.BlockSizeBits == 0)
                    {
                        blocks.XTotalAtBlockEnd.Enqueue(blocks.XAppended);
                        blocks.PulseAtBlockEnd.Enqueue(blocks.LastZPulse);
                    }
                }
            }
        }
    }

    /// <summary>ProtocolWriter.WritePacked's loop: value by value, bit by bit.</summary>
    public static int Pack(ReadOnlySpan<byte> values, int bitsPerValue, Span<byte> span)
    {
        int byteCount = (values.Length * bitsPerValue + 7) / 8;
        span[..byteCount].Clear();
        long bit = 0;
        foreach (byte v in values)
        {
            for (int b = 0; b < bitsPerValue; b++, bit++)
                if (((v >> b) & 1) != 0) span[(int)(bit >> 3)] |= (byte)(1 << (int)(bit & 7));
        }
        return byteCount;
    }

    /// <summary>ProtocolReader.ReadPacked's loop.</summary>
    public static void Unpack(ReadOnlySpan<byte> src, int bitsPerValue, Span<byte> destination)
    {
        long bit = 0;
        for (int i = 0; i < destination.Length; i++)
        {
            int v = 0;
            for (int b = 0; b < bitsPerValue; b++, bit++)
                v |= ((src[(int)(bit >> 3)] >> (int)(bit & 7)) & 1) << b;
            destination[i] = (byte)v;
        }
    }

    /// <summary>SiftRequest.Write as it was: a writer call per pulse gap, the bases packed bit by bit.</summary>
    public static ReadOnlyMemory<byte> WriteRequest(ProtocolWriter writer, ReadOnlySpan<long> pulses, ReadOnlySpan<byte> bases)
    {
        writer.Begin(MessageType.SiftRequest);
        writer.WriteVarInt64(pulses.Length);
        long previous = -1;
        for (int i = 0; i < pulses.Length; i++)
        {
            long pulse = pulses[i];
            if (pulse <= previous) throw new ArgumentException("Pulses must increase.");
            writer.WriteVarInt64(i == 0 ? pulse : pulse - previous);
            previous = pulse;
        }
        WritePacked(writer, bases, 1);
        return writer.Message;
    }

    /// <summary>SiftRequest.Read as it was: a reader call per pulse gap, the bases unpacked bit by bit.</summary>
    public static int ReadRequest(ReadOnlySpan<byte> message, Span<long> pulses, Span<byte> bases)
    {
        var reader = new ProtocolReader(message, MessageType.SiftRequest);
        int count = reader.ReadCount("detection count", pulses.Length);
        long previous = -1;
        for (int i = 0; i < count; i++)
        {
            long gap = reader.ReadVarInt64("pulse delta");
            long pulse = i == 0 ? gap : previous + gap;
            pulses[i] = pulse;
            previous = pulse;
        }
        ReadPacked(ref reader, 1, bases);
        reader.EnsureEnd(MessageType.SiftRequest);
        return count;
    }

    /// <summary>SiftResponse.Write as it was.</summary>
    public static ReadOnlyMemory<byte> WriteResponse(ProtocolWriter writer, ReadOnlySpan<byte> keep, ReadOnlySpan<byte> intensities)
    {
        writer.Begin(MessageType.SiftResponse);
        WritePacked(writer, keep, 1);
        WritePacked(writer, intensities, 2);
        return writer.Message;
    }

    /// <summary>SiftResponse.Read as it was.</summary>
    public static int ReadResponse(ReadOnlySpan<byte> message, Span<byte> keep, Span<byte> intensities)
    {
        var reader = new ProtocolReader(message, MessageType.SiftResponse);
        int kept = ReadPacked(ref reader, 1, keep);
        ReadPacked(ref reader, 2, intensities);
        reader.EnsureEnd(MessageType.SiftResponse);
        return kept;
    }

    private static void WritePacked(ProtocolWriter writer, ReadOnlySpan<byte> values, int bitsPerValue)
    {
        writer.WriteVarInt64(values.Length);
        int byteCount = Pack(values, bitsPerValue, writer.GetSpan((values.Length * bitsPerValue + 7) / 8));
        writer.Advance(byteCount);
    }

    private static int ReadPacked(ref ProtocolReader reader, int bitsPerValue, Span<byte> destination)
    {
        int count = reader.ReadCount("values", destination.Length);
        int byteCount = (count * bitsPerValue + 7) / 8;
        Unpack(reader.Unread, bitsPerValue, destination[..count]);
        reader.Skip(byteCount);
        return count;
    }
}
