using Org.BouncyCastle.Crypto.Digests;
using Qkd.Pqc.Algorithms;

namespace Qkd.Pqc.Tests.Algorithms;

/// <summary>
/// BouncyCastle's ML-DSA-65 against accumulated known answers (FIPS 204): the "TestAccumulated" vectors of Go's
/// crypto/mldsa (mldsa_test.go, "ML-DSA-65/100"). A SHAKE-128 stream of the empty string supplies each 32-byte seed ξ;
/// a second SHAKE-128 absorbs the public key and the deterministic signature of the empty message (empty context);
/// its first 32 bytes must equal the published hash.
/// </summary>
public sealed class MlDsaKnownAnswerTests
{
    [Fact]
    public void Hundred_accumulated_vectors_hash_to_the_published_value()
    {
        var dsa = new BouncyCastleMlDsa65();
        var rng = new ShakeDigest(128);
        var accumulator = new ShakeDigest(128);
        byte[] seed = new byte[32];
        for (int i = 0; i < 100; i++)
        {
            rng.Output(seed);
            byte[] publicKey = dsa.PublicKeyOf(seed);
            accumulator.BlockUpdate(publicKey);
            byte[] signature = dsa.Sign(seed, [], [], deterministic: true);
            accumulator.BlockUpdate(signature);
            Assert.True(dsa.Verify(publicKey, [], [], signature));
        }
        byte[] hash = new byte[32];
        accumulator.OutputFinal(hash);
        Assert.Equal("8358a1843220194417cadbc2651295cd8fc65125b5a5c1a239a16dc8b57ca199", Convert.ToHexStringLower(hash));
    }
}
