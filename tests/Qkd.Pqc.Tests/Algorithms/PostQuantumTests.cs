using Qkd.Pqc.Algorithms;

namespace Qkd.Pqc.Tests.Algorithms;

/// <summary>The interfaces as the rest of the stack uses them: round trips, forgeries refused, bad input named.</summary>
public sealed class PostQuantumTests
{
    private readonly IKeyEncapsulation _kem = PostQuantum.MlKem768;
    private readonly ISignatureScheme _dsa = PostQuantum.MlDsa65;

    [Fact]
    public void Encapsulation_round_trips_and_every_encapsulation_is_fresh()
    {
        using var pair = _kem.GenerateKeyPair();
        Assert.Equal(_kem.EncapsulationKeyBytes, pair.EncapsulationKey.Length);
        Assert.Equal(pair.EncapsulationKey, _kem.EncapsulationKeyOf(pair.PrivateSeed));
        byte[] ct1 = new byte[_kem.CiphertextBytes], ss1 = new byte[32], ct2 = new byte[_kem.CiphertextBytes], ss2 = new byte[32], back = new byte[32];
        _kem.Encapsulate(pair.EncapsulationKey, ct1, ss1);
        _kem.Encapsulate(pair.EncapsulationKey, ct2, ss2);
        Assert.NotEqual(ct1, ct2);
        Assert.NotEqual(ss1, ss2);
        _kem.Decapsulate(pair.PrivateSeed, ct1, back);
        Assert.Equal(ss1, back);
        _kem.Decapsulate(pair.PrivateSeed, ct2, back);
        Assert.Equal(ss2, back);
    }

    [Fact]
    public void A_tampered_ciphertext_or_another_key_gives_an_unrelated_secret()
    {
        using var pair = _kem.GenerateKeyPair();
        using var other = _kem.GenerateKeyPair();
        byte[] ct = new byte[_kem.CiphertextBytes], ss = new byte[32], back = new byte[32];
        _kem.Encapsulate(pair.EncapsulationKey, ct, ss);
        ct[100] ^= 1;
        _kem.Decapsulate(pair.PrivateSeed, ct, back);
        Assert.NotEqual(ss, back);
        ct[100] ^= 1;
        _kem.Decapsulate(other.PrivateSeed, ct, back);
        Assert.NotEqual(ss, back);
    }

    [Fact]
    public void Bad_sizes_are_refused_naming_the_problem()
    {
        using var pair = _kem.GenerateKeyPair();
        byte[] ct = new byte[_kem.CiphertextBytes], ss = new byte[32];
        var e = Assert.Throws<PqcException>(() => _kem.Encapsulate(pair.EncapsulationKey.AsSpan(1), ct, ss));
        Assert.Contains("encapsulation key is 1183 bytes", e.Message);
        e = Assert.Throws<PqcException>(() => _kem.Decapsulate(pair.PrivateSeed, ct.AsSpan(1), ss));
        Assert.Contains("ciphertext is 1087 bytes", e.Message);
        // A key whose coefficients are not reduced modulo q fails FIPS 203's modulus check.
        byte[] bad = (byte[])pair.EncapsulationKey.Clone();
        bad[0] = 0xFF;
        bad[1] |= 0x0F;
        Assert.Throws<PqcException>(() => _kem.Encapsulate(bad, ct, ss));
    }

    [Fact]
    public void Signatures_verify_and_forgeries_do_not()
    {
        using var pair = _dsa.GenerateKeyPair();
        using var other = _dsa.GenerateKeyPair();
        Assert.Equal(pair.PublicKey, _dsa.PublicKeyOf(pair.PrivateSeed));
        byte[] message = "vehicle truck-7 hello"u8.ToArray(), context = "qkd-test"u8.ToArray();
        byte[] signature = _dsa.Sign(pair.PrivateSeed, message, context);
        Assert.Equal(_dsa.SignatureBytes, signature.Length);
        Assert.True(_dsa.Verify(pair.PublicKey, message, context, signature));

        Assert.False(_dsa.Verify(other.PublicKey, message, context, signature), "another key");
        Assert.False(_dsa.Verify(pair.PublicKey, message, "qkd-other"u8, signature), "another context");
        byte[] altered = (byte[])message.Clone();
        altered[0] ^= 1;
        Assert.False(_dsa.Verify(pair.PublicKey, altered, context, signature), "another message");
        for (int at = 0; at < signature.Length; at += 331)
        {
            byte[] forged = (byte[])signature.Clone();
            forged[at] ^= 0x10;
            Assert.False(_dsa.Verify(pair.PublicKey, message, context, forged), $"signature bit flipped at byte {at}");
        }
        Assert.False(_dsa.Verify(pair.PublicKey, message, context, signature.AsSpan(1)), "short signature");
        Assert.False(_dsa.Verify(pair.PublicKey.AsSpan(1), message, context, signature), "short key");
    }
}
