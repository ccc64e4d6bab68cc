using System.Buffers.Binary;
using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Qkd.Core.Bits;
using Qkd.Core.Random;
using Qkd.Distillation.Messages;
using Qkd.Distillation.PrivacyAmplification;
using Qkd.Distillation.Protocol;

namespace Qkd.Benchmarks;

/// <summary>
/// Privacy amplification's seed, per block, before and after the change that made the Toeplitz family two-universal:
/// before, Alice drew 32 bytes, sent them, and both ends expanded them to the n + l - 1 matrix bits with AES-256-CTR;
/// after, Alice draws all n + l - 1 bits from her random source and sends them (AmplificationSeed parts), and Bob
/// copies them out of the message. The "before" expansion survives only here, as the baseline of the ratio.
/// <para>
/// Category "seed": what the seed costs both ends together (draw or expand, encode, decode, and Bob's own expansion
/// before). Category "seed + hashes": the whole privacy amplification of a block, with Alice's and Bob's Toeplitz
/// hash. The random source is the seeded xoshiro256** of emulation and tests; a hardware QRNG delivers its bits at
/// its own rate, which then bounds the "after" draw. l / n is 0.288, the ratio of the seed-7 reference run's full
/// block (2,415,720 of 8,388,608).
/// </para>
/// Run: dotnet run -c Release --project tests/Qkd.Benchmarks -- --filter '*ToeplitzSeed*'
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 15)] // a hash of 2^23 bits is tens of ms: bound the run
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams)]
public class ToeplitzSeedBenchmarks
{
    private const string SeedOnly = "seed";
    private const string WithHashes = "seed + hashes";

    private readonly ProtocolWriter _writer = new();
    private readonly byte[] _seed32 = new byte[AesCtrExpansion.SeedBytes];
    private IRandomSource _random = null!;
    private PackedBits _aliceKey = null!;
    private PackedBits _bobKey = null!;

    /// <summary>A 1 Mbit block and the default block of 2^23 sifted bits.</summary>
    [Params(1 << 20, 1 << 23)]
    public int InputBits { get; set; }

    public long OutputBits => (long)(InputBits * 0.288);

    [GlobalSetup]
    public void Setup()
    {
        _random = new Xoshiro256StarStar(2025);
        _aliceKey = RandomBits(_random, InputBits);
        _bobKey = _aliceKey.Clone();
    }

    [Benchmark(Baseline = true, Description = "before: 32 bytes drawn, AES-256-CTR at both ends")]
    [BenchmarkCategory(SeedOnly)]
    public PackedBits ExpandedSeed() => ExpandedSeed(out _);

    [Benchmark(Description = "after: n + l - 1 bits drawn and sent")]
    [BenchmarkCategory(SeedOnly)]
    public PackedBits FullSeed() => FullSeed(out _);

    [Benchmark(Baseline = true, Description = "before: 32 bytes drawn, AES-256-CTR at both ends")]
    [BenchmarkCategory(WithHashes)]
    public PackedBits ExpandedSeedAndHashes()
    {
        var bobMatrix = ExpandedSeed(out var aliceMatrix);
        ToeplitzHash.Apply(_aliceKey, OutputBits, aliceMatrix);
        return ToeplitzHash.Apply(_bobKey, OutputBits, bobMatrix);
    }

    [Benchmark(Description = "after: n + l - 1 bits drawn and sent")]
    [BenchmarkCategory(WithHashes)]
    public PackedBits FullSeedAndHashes()
    {
        var bobMatrix = FullSeed(out var aliceMatrix);
        ToeplitzHash.Apply(_aliceKey, OutputBits, aliceMatrix);
        return ToeplitzHash.Apply(_bobKey, OutputBits, bobMatrix);
    }

    /// <summary>The former protocol: a 32-byte seed in the message (a byte string after block id and key length).</summary>
    private PackedBits ExpandedSeed(out PackedBits aliceMatrix)
    {
        long seedBits = InputBits + OutputBits - 1;
        _random.Fill(_seed32);
        aliceMatrix = AesCtrExpansion.Expand(_seed32, seedBits);
        _writer.Begin(MessageType.AmplificationSeed);
        _writer.WriteVarInt64(0);
        _writer.WriteVarInt64(OutputBits);
        _writer.WriteBytes(_seed32);
        var reader = new ProtocolReader(_writer.Message.Span, MessageType.AmplificationSeed);
        reader.ReadVarInt64("block id");
        reader.ReadVarInt64("key length");
        var received = reader.ReadBytes("Toeplitz seed", AesCtrExpansion.SeedBytes);
        reader.EnsureEnd(MessageType.AmplificationSeed);
        return AesCtrExpansion.Expand(received, seedBits);
    }

    /// <summary>The protocol now: every seed bit drawn, written part by part, read back into Bob's seed.</summary>
    private PackedBits FullSeed(out PackedBits aliceMatrix)
    {
        aliceMatrix = ToeplitzSeed.Draw(_random, InputBits, OutputBits);
        var sent = new AmplificationSeed(0, OutputBits, aliceMatrix);
        var received = AmplificationSeed.Read(sent.Write(_writer, 0).Span, InputBits);
        for (int part = 1; part < sent.MessageCount; part++)
            received = received.ReadNext(sent.Write(_writer, part).Span);
        return received.Seed!;
    }

    private static PackedBits RandomBits(IRandomSource random, long length)
    {
        var bits = new PackedBits(length);
        Span<ulong> words = bits.Words;
        for (int i = 0; i < words.Length; i++) words[i] = random.NextUInt64();
        return PackedBits.FromWords(bits.RawWords, length);
    }

    /// <summary>
    /// The retired seed expansion (its little-endian path, which is this machine's): AES-256 in counter mode keyed with the 32-byte seed, block j the
    /// encryption of the 16-byte big-endian j, bytes in PackedBits order. Kept for the comparison only.
    /// </summary>
    private static class AesCtrExpansion
    {
        public const int SeedBytes = 32;
        private const int BlockBytes = 16;
        private const int BlocksPerBatch = 4096;

        public static PackedBits Expand(ReadOnlySpan<byte> seed32, long bitCount)
        {
            var bits = new PackedBits(bitCount);
            Span<byte> stream = System.Runtime.InteropServices.MemoryMarshal.AsBytes(bits.Words);
            long byteCount = (bitCount + 7) / 8;
            using Aes aes = Aes.Create();
            aes.SetKey(seed32);
            byte[] counters = new byte[BlocksPerBatch * BlockBytes];
            byte[] cipher = new byte[BlocksPerBatch * BlockBytes];
            ulong block = 0;
            for (long done = 0; done < byteCount;)
            {
                long remaining = byteCount - done;
                int blocks = (int)Math.Min(BlocksPerBatch, (remaining + BlockBytes - 1) / BlockBytes);
                for (int b = 0; b < blocks; b++, block++)
                    BinaryPrimitives.WriteUInt64BigEndian(counters.AsSpan(b * BlockBytes + 8, 8), block);
                int produced = aes.EncryptEcb(counters.AsSpan(0, blocks * BlockBytes), cipher, PaddingMode.None);
                int take = (int)Math.Min(produced, remaining);
                cipher.AsSpan(0, take).CopyTo(stream.Slice(checked((int)done), take));
                done += take;
            }
            CryptographicOperations.ZeroMemory(cipher);
            return PackedBits.FromWords(bits.RawWords, bitCount);
        }
    }
}
