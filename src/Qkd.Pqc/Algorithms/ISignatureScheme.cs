namespace Qkd.Pqc.Algorithms;

/// <summary>
/// A signature scheme (FIPS 204 ML-DSA-65 here, hedged signing with fresh randomness). Private keys are handled as their
/// 32-byte FIPS 204 seed ξ and are the caller's to zeroise. Every signature carries a context string (FIPS 204 ctx, at
/// most 255 bytes) so that a signature made for one purpose never verifies for another.
/// </summary>
public interface ISignatureScheme
{
    /// <summary>The algorithm's name ("ML-DSA-65").</summary>
    string Algorithm { get; }

    /// <summary>Which implementation runs ("platform" or "BouncyCastle").</summary>
    string Implementation { get; }

    int PublicKeyBytes { get; }

    int PrivateSeedBytes { get; }

    int SignatureBytes { get; }

    /// <summary>A new key pair from the OS CSPRNG.</summary>
    SignatureKeyPair GenerateKeyPair();

    /// <summary>The public key of the key pair this seed expands to.</summary>
    byte[] PublicKeyOf(ReadOnlySpan<byte> privateSeed);

    byte[] Sign(ReadOnlySpan<byte> privateSeed, ReadOnlySpan<byte> message, ReadOnlySpan<byte> context);

    /// <summary>False for any signature that does not verify, including one of the wrong length or under a malformed key.</summary>
    bool Verify(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> message, ReadOnlySpan<byte> context, ReadOnlySpan<byte> signature);
}

/// <summary>An ML-DSA key pair: the public key and the private 32-byte seed (zeroise it with <see cref="Dispose"/>).</summary>
public sealed class SignatureKeyPair(byte[] publicKey, byte[] privateSeed) : IDisposable
{
    public byte[] PublicKey { get; } = publicKey;

    public byte[] PrivateSeed { get; } = privateSeed;

    public void Dispose() => System.Security.Cryptography.CryptographicOperations.ZeroMemory(PrivateSeed);
}
