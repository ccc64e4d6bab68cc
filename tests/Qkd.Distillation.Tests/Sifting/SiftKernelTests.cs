using CsCheck;
using Qkd.Core;
using Qkd.Core.Symbols;
using Qkd.Distillation.Messages;
using Qkd.Distillation.Protocol;
using Qkd.Distillation.Sifting;
using Qkd.Reference;

namespace Qkd.Distillation.Tests.Sifting;

/// <summary>
/// The batch sifting kernels give exactly what the per-detection loops they replaced gave (<see cref="ReferenceSifting"/>):
/// flags, classes, sifted records (appended at any offset of a buffer), statistics, Bob's block bookkeeping and the
/// bytes on the wire, on random batches of every size (not only multiples of 32 or 64).
/// </summary>
public class SiftKernelTests
{
    private static readonly SymbolDistribution Distribution = new(0.75, [0.65, 0.25, 0.10]);

    private static (byte[] Bits, byte[] Intensities) Contents(SiftedBuffer buffer)
    {
        var (bits, intensities) = buffer.TakeFront(buffer.Count);
        return (Enumerable.Range(0, (int)bits.Length).Select(i => (byte)(bits[i] ? 1 : 0)).ToArray(), intensities);
    }

    private static SiftedBuffer Prefilled(int records, int seed)
    {
        var buffer = new SiftedBuffer();
        var random = new Random(seed);
        for (int i = 0; i < records; i++) buffer.Append((byte)random.Next(2), (Intensity)random.Next(3));
        return buffer;
    }

    private static void AssertSame(SiftingStatistics expected, SiftingStatistics actual)
    {
        Assert.Equal(expected.Detections, actual.Detections);
        Assert.Equal(expected.DetectionsPerIntensity, actual.DetectionsPerIntensity);
        Assert.Equal(expected.SiftedPerBasisAndIntensity[0], actual.SiftedPerBasisAndIntensity[0]);
        Assert.Equal(expected.SiftedPerBasisAndIntensity[1], actual.SiftedPerBasisAndIntensity[1]);
    }

    private static void AssertSame(SiftedBuffer expected, SiftedBuffer actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        var (eb, ei) = Contents(expected);
        var (ab, ai) = Contents(actual);
        Assert.Equal(eb, ab);
        Assert.Equal(ei, ai);
    }

    private static Gen<long[]> Pulses(int maxCount) =>
        Gen.Int[1, 200].Array[0, maxCount].Select(gaps =>
        {
            var pulses = new long[gaps.Length];
            long pulse = -1;
            for (int i = 0; i < gaps.Length; i++) pulses[i] = pulse += gaps[i];
            return pulses;
        });

    [Fact]
    public void Alice_batch_equals_the_per_detection_loop()
    {
        Gen.Select(Pulses(700), Gen.ULong, Gen.Int[0, 200], Gen.Int[0, 200]).Sample((pulses, seed, zBefore, xBefore) =>
        {
            var source = new SeededSymbolSource(seed, Distribution);
            var bases = pulses.Select(p => (byte)((p * 7 + (long)(seed & 1)) % 3 == 0 ? 1 : 0)).ToArray();
            int n = pulses.Length;
            byte[] keepRef = new byte[n], classesRef = new byte[n], keep = new byte[n], classes = new byte[n], symbols = new byte[n];
            SiftedBuffer zRef = Prefilled(zBefore, 1), xRef = Prefilled(xBefore, 2), z = Prefilled(zBefore, 1), x = Prefilled(xBefore, 2);
            var statsRef = new SiftingStatistics();
            var stats = new SiftingStatistics();

            ReferenceSifting.AliceMatch(source, pulses, bases, keepRef, classesRef, zRef, xRef, statsRef);
            ((ISymbolSource)source).PackedAt(pulses, symbols);
            SiftKernel.Match(symbols, bases, keep, classes);
            SiftKernel.Sort(symbols, 0, symbols, 1, keep, classes, z, x, stats);

            Assert.Equal(keepRef, keep);
            Assert.Equal(classesRef, classes);
            AssertSame(statsRef, stats);
            AssertSame(zRef, z);
            AssertSame(xRef, x);
        });
    }

    [Fact]
    public void Bulk_symbol_lookup_equals_one_by_one()
    {
        Gen.Select(Pulses(300), Gen.ULong).Sample((pulses, seed) =>
        {
            var source = new SeededSymbolSource(seed, Distribution);
            var packed = new byte[pulses.Length];
            ((ISymbolSource)source).PackedAt(pulses, packed);
            Assert.Equal(pulses.Select(p => source.SymbolAt(p).Pack()).ToArray(), packed);
        });
    }

    [Fact]
    public void Bob_batch_equals_the_per_detection_loop_including_block_ends()
    {
        Gen.Select(Pulses(700), Gen.Int[0, 200], Gen.Int[1, 150]).Sample((pulses, zBefore, blockSize) =>
        {
            var random = new Random(pulses.Length * 31 + zBefore);
            int n = pulses.Length;
            var batch = pulses.Select(p => new Detection(p, (Basis)random.Next(2), (byte)random.Next(2))).ToArray();
            var keep = batch.Select(_ => (byte)(random.Next(3) == 0 ? 0 : 1)).ToArray();
            var classes = batch.Select(_ => (byte)random.Next(3)).ToArray();
            SiftedBuffer zRef = Prefilled(zBefore, 3), xRef = Prefilled(7, 4), z = Prefilled(zBefore, 3), x = Prefilled(7, 4);
            var statsRef = new SiftingStatistics();
            var stats = new SiftingStatistics();
            var blocks = new ReferenceSifting.BobBlocks(blockSize) { ZAppended = zBefore };
            ReferenceSifting.BobSort(batch, keep, classes, zRef, xRef, statsRef, blocks);

            var bases = batch.Select(d => (byte)d.Basis).ToArray();
            var bits = batch.Select(d => d.Bit).ToArray();
            var selected = new ulong[2 * ((n + 63) / 64)];
            SiftKernel.Sort(bases, 0, bits, 0, keep, classes, z, x, stats, selected);

            AssertSame(statsRef, stats);
            AssertSame(zRef, z);
            AssertSame(xRef, x);
            // The block ends Bob derives from the selections (BobDistiller.ReadSiftResponse), after zBefore Z records.
            var ends = new BlockBoundaries(blockSize);
            if (zBefore > 0)
            {
                var earlier = new ulong[2 * ((zBefore + 63) / 64)];
                for (int i = 0; i < zBefore; i++) earlier[2 * (i / 64)] |= 1UL << (i % 64);
                ends.Advance(earlier, Enumerable.Range(0, zBefore).Select(i => (long)i - zBefore - 1_000_000).ToArray());
                blocks = new ReferenceSifting.BobBlocks(blockSize) { ZAppended = zBefore, BlockStartPulse = ends.BlockStartPulse, LastZPulse = ends.LastZPulse };
                foreach (var (xt, p) in ends.XTotalAtBlockEnd.Zip(ends.PulseAtBlockEnd)) { blocks.XTotalAtBlockEnd.Enqueue(xt); blocks.PulseAtBlockEnd.Enqueue(p); }
                ReferenceSifting.BobSort(batch, keep, classes, new SiftedBuffer(), new SiftedBuffer(), new SiftingStatistics(), blocks);
            }
            ends.Advance(selected, pulses);
            Assert.Equal(blocks.ZAppended, ends.ZAppended);
            Assert.Equal(blocks.XAppended, ends.XAppended);
            Assert.Equal(blocks.BlockStartPulse, ends.BlockStartPulse);
            Assert.Equal(blocks.LastZPulse, ends.LastZPulse);
            Assert.Equal(blocks.XTotalAtBlockEnd.ToArray(), ends.XTotalAtBlockEnd.ToArray());
            Assert.Equal(blocks.PulseAtBlockEnd.ToArray(), ends.PulseAtBlockEnd.ToArray());
        });
    }

    [Fact]
    public void Value_packing_equals_the_bit_by_bit_loops()
    {
        Gen.Select(Gen.Byte.Array[0, 700], Gen.Int[1, 3]).Sample((raw, bitsPerValue) =>
        {
            var values = raw.Select(v => (byte)(v & ((1 << bitsPerValue) - 1))).ToArray();
            int bytes = (values.Length * bitsPerValue + 7) / 8;
            var expected = new byte[bytes];
            ReferenceSifting.Pack(values, bitsPerValue, expected);
            var packed = new byte[bytes];
            ValuePacking.Pack(values, bitsPerValue, packed);
            Assert.Equal(expected, packed);

            var back = new byte[values.Length];
            ValuePacking.Unpack(packed, bitsPerValue, back);
            Assert.Equal(values, back);
        });
    }

    [Fact]
    public void Sift_messages_are_byte_for_byte_the_former_encoding()
    {
        Gen.Select(Pulses(700), Gen.Int[0, 3], Gen.Long[0, 1L << 40]).Sample((gaps, seed, offset) =>
        {
            var pulses = gaps.Select(p => p + offset).ToArray();
            var random = new Random(seed + pulses.Length);
            var bases = pulses.Select(_ => (byte)random.Next(2)).ToArray();
            var keep = pulses.Select(_ => (byte)random.Next(2)).ToArray();
            var classes = pulses.Select(_ => (byte)random.Next(3)).ToArray();

            var request = new SiftRequest(pulses, bases).Write(new ProtocolWriter()).ToArray();
            Assert.Equal(ReferenceSifting.WriteRequest(new ProtocolWriter(), pulses, bases).ToArray(), request);
            long[] pulseBuffer = [];
            byte[] basisBuffer = [];
            var read = SiftRequest.Read(request, ref pulseBuffer, ref basisBuffer);
            Assert.Equal(pulses, read.Pulses.ToArray());
            Assert.Equal(bases, read.Bases.ToArray());

            var response = new SiftResponse(keep, classes).Write(new ProtocolWriter()).ToArray();
            Assert.Equal(ReferenceSifting.WriteResponse(new ProtocolWriter(), keep, classes).ToArray(), response);
            var back = SiftResponse.Read(response, new byte[keep.Length], new byte[keep.Length]);
            Assert.Equal(keep, back.Kept.ToArray());
            Assert.Equal(classes, back.Intensities.ToArray());
        });
    }
}
