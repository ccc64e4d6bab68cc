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

    /// <summary>Pulse gaps of every encoded length: mostly one or two bytes (as a dense link gives), some up to 2^40.</summary>
    private static Gen<long[]> WidePulses(int maxCount) =>
        Gen.Frequency((6, Gen.Long[1, 200]), (3, Gen.Long[100, 20_000]), (1, Gen.Long[1, 1L << 40])).Array[0, maxCount].Select(gaps =>
        {
            var pulses = new long[gaps.Length];
            long pulse = -1;
            for (int i = 0; i < gaps.Length; i++) pulses[i] = pulse += gaps[i];
            return pulses;
        });

    private static (byte[] Bits, byte[] Intensities) Contents(Qkd.Reference.PreSiftedBuffer buffer)
    {
        var (bits, intensities) = buffer.TakeFront(buffer.Count);
        return (Enumerable.Range(0, (int)bits.Length).Select(i => (byte)(bits[i] ? 1 : 0)).ToArray(), intensities);
    }

    private static void AssertSame(Qkd.Reference.PreSiftedBuffer expected, SiftedBuffer actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        var (eb, ei) = Contents(expected);
        var (ab, ai) = Contents(actual);
        Assert.Equal(eb, ab);
        Assert.Equal(ei, ai);
    }

    private static Qkd.Reference.PreSiftedBuffer PrefilledBefore(int records, int seed)
    {
        var buffer = new Qkd.Reference.PreSiftedBuffer();
        var random = new Random(seed);
        for (int i = 0; i < records; i++) buffer.Append((byte)random.Next(2), (Intensity)random.Next(3));
        return buffer;
    }

    /// <summary>
    /// Issue 14's one-pass sifting (Alice from the request's packed bases to the reply's packed lists, Bob from the reply's
    /// packed lists) against the code it replaced (the benchmarks' pre-change baselines), on random batches with gaps of
    /// every encoded length, appended after any number of records: the same request and reply bytes, the same records in
    /// both ends' buffers, the same statistics and the same Z/X selections.
    /// </summary>
    [Fact]
    public void One_pass_sifting_equals_the_former_batch_code()
    {
        Gen.Select(WidePulses(700), Gen.ULong, Gen.Int[0, 200], Gen.Int[0, 200]).Sample((pulses, seed, zBefore, xBefore) =>
        {
            var source = new SeededSymbolSource(seed, Distribution);
            var random = new Random((int)seed ^ pulses.Length);
            int n = pulses.Length;
            var bobBases = pulses.Select(_ => (byte)(random.Next(4) == 0 ? 1 : 0)).ToArray();
            var bobBits = pulses.Select(_ => (byte)random.Next(2)).ToArray();

            // Before: the batch kernels with byte-per-detection flags and classes.
            var request = new Qkd.Reference.PreSiftRequest(pulses, bobBases).Write(new ProtocolWriter()).ToArray();
            long[] pulsesBefore = [];
            byte[] basesBefore = [];
            var readBefore = Qkd.Reference.PreSiftRequest.Read(request, ref pulsesBefore, ref basesBefore);
            var symbols = new byte[n];
            new Qkd.Reference.PreSymbolLookup(seed, Distribution).PackedAt(readBefore.Pulses.Span, symbols);
            byte[] keep = new byte[n], classes = new byte[n];
            Qkd.Reference.PreSiftKernel.Match(symbols, readBefore.Bases.Span, keep, classes);
            var aliceZBefore = PrefilledBefore(zBefore, 1);
            var aliceXBefore = PrefilledBefore(xBefore, 2);
            var aliceStatsBefore = new SiftingStatistics();
            Qkd.Reference.PreSiftKernel.Sort(symbols, 0, symbols, 1, keep, classes, aliceZBefore, aliceXBefore, aliceStatsBefore);
            var response = new Qkd.Reference.PreSiftResponse(keep, classes).Write(new ProtocolWriter()).ToArray();
            byte[] bobKeep = new byte[n], bobClasses = new byte[n];
            Qkd.Reference.PreSiftResponse.Read(response, bobKeep, bobClasses);
            var bobZBefore = PrefilledBefore(zBefore, 3);
            var bobXBefore = PrefilledBefore(xBefore, 4);
            var bobStatsBefore = new SiftingStatistics();
            var selectedBefore = new ulong[2 * ((n + 63) / 64)];
            Qkd.Reference.PreSiftKernel.Sort(bobBases, 0, bobBits, 0, bobKeep, bobClasses, bobZBefore, bobXBefore, bobStatsBefore, selectedBefore);

            // Now: the request written the same way, Alice's one pass, Bob's one pass.
            var requestNow = new SiftRequest(pulses, bobBases).Write(new ProtocolWriter()).ToArray();
            Assert.Equal(request, requestNow);
            long[] pulsesNow = [];
            int count = SiftRequest.ReadPulses(requestNow, ref pulsesNow, out int basesAt);
            Assert.Equal(pulses, pulsesNow.AsSpan(0, count).ToArray());
            var symbolsNow = new byte[n];
            ((ISymbolSource)source).PackedAt(pulsesNow.AsSpan(0, count), symbolsNow);
            Assert.Equal(symbols, symbolsNow);
            var writer = new ProtocolWriter();
            SiftResponse.Reserve(writer, count, out var keptPacked, out var classesPacked);
            SiftedBuffer aliceZ = Prefilled(zBefore, 1), aliceX = Prefilled(xBefore, 2);
            var aliceStats = new SiftingStatistics();
            SiftKernel.AliceSift(symbolsNow, requestNow.AsSpan(basesAt, (count + 7) / 8), keptPacked, classesPacked, aliceZ, aliceX, aliceStats);
            var responseNow = writer.Message.ToArray();
            Assert.Equal(response, responseNow);
            AssertSame(aliceStatsBefore, aliceStats);
            AssertSame(aliceZBefore, aliceZ);
            AssertSame(aliceXBefore, aliceX);

            int covered = SiftResponse.ReadPacked(responseNow, n, out int keptAt, out int classesAt);
            Assert.Equal(n, covered);
            SiftedBuffer bobZ = Prefilled(zBefore, 3), bobX = Prefilled(xBefore, 4);
            var bobStats = new SiftingStatistics();
            var selected = new ulong[2 * ((n + 63) / 64)];
            SiftKernel.BobSift(bobBases, bobBits, responseNow.AsSpan(keptAt), responseNow.AsSpan(classesAt), bobZ, bobX, bobStats, selected);
            AssertSame(bobStatsBefore, bobStats);
            AssertSame(bobZBefore, bobZ);
            AssertSame(bobXBefore, bobX);
            Assert.Equal(selectedBefore, selected);

            // The unpacking reads still give the former lists.
            long[] pulseBuffer = [];
            byte[] basisBuffer = [];
            var read = SiftRequest.Read(requestNow, ref pulseBuffer, ref basisBuffer);
            Assert.Equal(pulses, read.Pulses.ToArray());
            Assert.Equal(bobBases, read.Bases.ToArray());
        });
    }

    /// <summary>A reply naming class 3 is refused before anything is sorted, wherever the class sits; the former read refused the same ones.</summary>
    [Fact]
    public void A_reply_with_a_class_that_does_not_exist_is_refused()
    {
        Gen.Select(Gen.Int[1, 300], Gen.Int[0, 299]).Sample((n, at) =>
        {
            at %= n;
            var keep = new byte[n];
            var classes = new byte[n];
            var message = new SiftResponse(keep, classes).Write(new ProtocolWriter()).ToArray();
            SiftResponse.ReadPacked(message, n, out _, out int classesAt);
            message[classesAt + at / 4] |= (byte)(3 << (2 * (at % 4)));
            var e = Assert.Throws<ProtocolException>(() => SiftResponse.ReadPacked(message, n, out _, out _));
            Assert.Equal("Sift response names intensity class 3.", e.Message);
            Assert.Throws<ProtocolException>(() => Qkd.Reference.PreSiftResponse.Read(message, new byte[n], new byte[n]));
            Assert.Equal(-1, SiftKernel.FirstInvalidClass(new SiftResponse(keep, classes).Write(new ProtocolWriter()).Span[classesAt..], n));
        });
    }
}
