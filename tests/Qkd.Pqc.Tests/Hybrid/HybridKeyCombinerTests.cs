using System.Security.Cryptography;
using CsCheck;
using Qkd.Pqc.Hybrid;

namespace Qkd.Pqc.Tests.Hybrid;

/// <summary>
/// Properties of the hybrid combiner: deterministic (both ends derive the same key from the same inputs), unlike either
/// input, and changed by every input and every context field, so a key cannot be moved to another ID, pair of
/// parties, ciphertext or algorithm.
/// </summary>
public sealed class HybridKeyCombinerTests
{
    private static readonly Gen<byte[]> Secret = Gen.Byte.Array[32];

    private static readonly Gen<HybridContext> Contexts =
        from purpose in Gen.Const("etsi-014")
        from id in Gen.Guid
        from master in Gen.String[Gen.Char.AlphaNumeric, 1, 20]
        from slave in Gen.String[Gen.Char.AlphaNumeric, 1, 20]
        from ct in Gen.Byte.Array[1, 64]
        from transcript in Gen.Byte.Array[0, 32]
        select new HybridContext(purpose, id, master, slave, ct, "ML-KEM-768", transcript);

    private static readonly HybridKeyCombiner[] Combiners = [HybridKeyCombiner.Default, new(HashAlgorithmName.SHA256)];

    [Fact]
    public void Equal_inputs_give_equal_keys_and_the_key_differs_from_both_inputs()
    {
        Gen.Select(Secret, Secret, Contexts, Gen.Int[0, 1]).Sample((qkd, kem, context, which) =>
        {
            var combiner = Combiners[which];
            byte[] a = combiner.Combine(qkd, kem, context, 32);
            byte[] b = combiner.Combine((byte[])qkd.Clone(), (byte[])kem.Clone(), context with { KemCiphertext = context.KemCiphertext.ToArray() }, 32);
            Assert.Equal(a, b);
            Assert.NotEqual(qkd, a);
            Assert.NotEqual(kem, a);
        });
    }

    [Fact]
    public void Each_secret_changes_the_key()
    {
        Gen.Select(Secret, Secret, Contexts, Gen.Int[0, 31]).Sample((qkd, kem, context, bit) =>
        {
            byte[] key = HybridKeyCombiner.Default.Combine(qkd, kem, context, 32);
            byte[] qkd2 = (byte[])qkd.Clone();
            qkd2[bit] ^= 1;
            byte[] kem2 = (byte[])kem.Clone();
            kem2[bit] ^= 0x80;
            Assert.NotEqual(key, HybridKeyCombiner.Default.Combine(qkd2, kem, context, 32));
            Assert.NotEqual(key, HybridKeyCombiner.Default.Combine(qkd, kem2, context, 32));
            // Swapping the two inputs is another key: the order is part of the construction.
            Assert.NotEqual(key, HybridKeyCombiner.Default.Combine(kem, qkd, context, 32));
        });
    }

    [Fact]
    public void Each_context_field_changes_the_key()
    {
        Gen.Select(Secret, Secret, Contexts).Sample((qkd, kem, c) =>
        {
            byte[] key = HybridKeyCombiner.Default.Combine(qkd, kem, c, 32);
            byte[] ct = c.KemCiphertext.ToArray();
            ct[0] ^= 1;
            HybridContext[] variants =
            [
                c with { Purpose = c.Purpose + "x" },
                c with { KeyId = Guid.NewGuid() },
                c with { MasterId = c.MasterId + "x" },
                c with { SlaveId = c.SlaveId + "x" },
                c with { MasterId = c.SlaveId, SlaveId = c.MasterId + (c.MasterId == c.SlaveId ? "x" : "") },
                c with { KemCiphertext = ct },
                c with { KemAlgorithm = "ML-KEM-1024" },
                c with { Transcript = c.Transcript.ToArray().Append((byte)0).ToArray() },
                // Moving a byte from one field to the next must not give the same encoding (length prefixes).
                c with { MasterId = c.MasterId + c.SlaveId[0], SlaveId = c.SlaveId[1..] + (c.SlaveId.Length == 1 ? "y" : "") },
            ];
            foreach (var variant in variants)
                Assert.NotEqual(key, HybridKeyCombiner.Default.Combine(qkd, kem, variant, 32));
            Assert.NotEqual(key, new HybridKeyCombiner(HashAlgorithmName.SHA256).Combine(qkd, kem, c, 32));
            Assert.NotEqual(key, HybridKeyCombiner.Default.Combine(qkd, kem, c, 48).AsSpan(0, 32).ToArray());
        });
    }

    [Fact]
    public void Bad_parameters_are_refused()
    {
        var c = new HybridContext("etsi-014", Guid.NewGuid(), "a", "b", new byte[4]);
        Assert.Throws<ArgumentException>(() => HybridKeyCombiner.Default.Combine(new byte[8], new byte[32], c, 32));
        Assert.Throws<ArgumentException>(() => HybridKeyCombiner.Default.Combine(new byte[32], new byte[8], c, 32));
        Assert.Throws<ArgumentException>(() => new HybridKeyCombiner(HashAlgorithmName.MD5));
    }
}
