using System.Security.Cryptography;
using Qkd.Kme.Pool;

namespace Qkd.Kme.Tests.Pool;

/// <summary>AES-GCM sealing of key material: round trip, fresh nonces, and binding to the key ID and block.</summary>
public sealed class KeyMaterialProtectorTests
{
    private static readonly byte[] Salt = new byte[KeyMaterialProtector.SaltBytes];

    [Fact]
    public void A_sealed_key_opens_only_under_its_own_id_block_and_operator_key()
    {
        using var operatorKey = OperatorKey.Generate();
        using var protector = new KeyMaterialProtector(operatorKey, Salt);
        byte[] plain = RandomNumberGenerator.GetBytes(32);
        Guid id = Guid.NewGuid(), other = Guid.NewGuid();
        var sealedKey = new byte[KeyMaterialProtector.SealedLength(32)];
        protector.Seal(id, 4, plain, sealedKey);

        var opened = new byte[32];
        protector.Open(id, 4, sealedKey, opened);
        Assert.Equal(plain, opened);

        Assert.Contains(other.ToString(), Assert.ThrowsAny<CryptographicException>(() => protector.Open(other, 4, sealedKey, opened)).Message);
        Assert.ThrowsAny<CryptographicException>(() => protector.Open(id, 5, sealedKey, opened));
        Assert.Equal(new byte[32], opened); // a failed open leaves no partial plaintext
        using var otherKey = OperatorKey.Generate();
        using var wrong = new KeyMaterialProtector(otherKey, Salt);
        Assert.ThrowsAny<CryptographicException>(() => wrong.Open(id, 4, sealedKey, opened));
        sealedKey[20] ^= 1;
        Assert.ThrowsAny<CryptographicException>(() => protector.Open(id, 4, sealedKey, opened));
    }

    [Fact]
    public void Sealing_the_same_key_twice_uses_fresh_nonces()
    {
        using var operatorKey = OperatorKey.Generate();
        using var protector = new KeyMaterialProtector(operatorKey, Salt);
        byte[] plain = new byte[32];
        var a = new byte[KeyMaterialProtector.SealedLength(32)];
        var b = new byte[KeyMaterialProtector.SealedLength(32)];
        protector.Seal(Guid.Empty, 0, plain, a);
        protector.Seal(Guid.Empty, 0, plain, b);
        Assert.NotEqual(a[..KeyMaterialProtector.NonceBytes], b[..KeyMaterialProtector.NonceBytes]);
        Assert.NotEqual(a, b);
    }

    [Fact]
    public void The_verification_record_detects_a_different_operator_key()
    {
        using var k1 = OperatorKey.Generate();
        using var k2 = OperatorKey.Generate();
        using var p1 = new KeyMaterialProtector(k1, Salt);
        using var p2 = new KeyMaterialProtector(k2, Salt);
        var record = p1.CreateVerificationRecord();
        Assert.True(p1.Verifies(record));
        Assert.False(p2.Verifies(record));
    }
}
