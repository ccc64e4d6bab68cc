using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Security;
using Qkd.Pqc.Algorithms;

namespace Qkd.Pqc.Tests.Algorithms;

/// <summary>
/// BouncyCastle's ML-KEM-768 against accumulated known answers (final FIPS 203): the "TestAccumulated" vectors of Go's
/// standard library (crypto/internal/fips140/mlkem, mlkem_test.go), themselves checked against the C2SP CCTV vectors.
/// A SHAKE-128 stream of the empty string supplies, per test, the 64-byte seed d ‖ z, the message m and an invalid
/// ciphertext; a second SHAKE-128 absorbs ek, ct, K (checked against decapsulation) and the implicit-rejection K of
/// the invalid ciphertext; its first 32 bytes must equal the published hash. Edge cases of the arithmetic that a
/// few fixed vectors would miss come up randomly over thousands of runs.
/// </summary>
public sealed class MlKemKnownAnswerTests
{
    [Theory]
    [InlineData(100, "1114b1b6699ed191734fa339376afa7e285c9e6acf6ff0177d346696ce564415")]
    [InlineData(10_000, "8a518cc63da366322a8e7a818c7a0d63483cb3528d34a4cf42f35d5ad73f22fc")]
    public void Accumulated_vectors_hash_to_the_published_value(int tests, string expected)
    {
        // BouncyCastle's SHAKE: the platform's squeezes a stream only with OpenSSL 3.3 or later.
        var kem = new BouncyCastleMlKem768();
        var rng = new ShakeDigest(128);
        var accumulator = new ShakeDigest(128);
        byte[] seed = new byte[64], m = new byte[32], badCiphertext = new byte[kem.CiphertextBytes];
        byte[] ciphertext = new byte[kem.CiphertextBytes], secret = new byte[32], decapsulated = new byte[32], rejected = new byte[32];
        for (int i = 0; i < tests; i++)
        {
            rng.Output(seed);
            byte[] ek = kem.EncapsulationKeyOf(seed);
            accumulator.BlockUpdate(ek);
            rng.Output(m);
            kem.Encapsulate(ek, ciphertext, secret, new FixedRandom(m));
            accumulator.BlockUpdate(ciphertext);
            accumulator.BlockUpdate(secret);
            kem.Decapsulate(seed, ciphertext, decapsulated);
            Assert.Equal(secret, decapsulated);
            rng.Output(badCiphertext);
            kem.Decapsulate(seed, badCiphertext, rejected);
            Assert.NotEqual(secret, rejected);
            accumulator.BlockUpdate(rejected);
        }
        byte[] hash = new byte[32];
        accumulator.OutputFinal(hash);
        Assert.Equal(expected, Convert.ToHexStringLower(hash));
    }

    [Fact]
    public void The_stream_starts_as_the_vectors_say()
    {
        var rng = new ShakeDigest(128);
        byte[] first = new byte[16];
        rng.Output(first);
        Assert.Equal("7f9c2ba4e88f827d616045507605853e", Convert.ToHexStringLower(first));
    }

    /// <summary>A "random" source that hands out the given bytes: FIPS 203's m injected into encapsulation.</summary>
    private sealed class FixedRandom(byte[] bytes) : SecureRandom
    {
        private int _at;

        public override void NextBytes(byte[] buf) => NextBytes(buf.AsSpan());

        public override void NextBytes(byte[] buf, int off, int len) => NextBytes(buf.AsSpan(off, len));

        public override void NextBytes(Span<byte> buffer)
        {
            bytes.AsSpan(_at, buffer.Length).CopyTo(buffer);
            _at += buffer.Length;
        }
    }
}
