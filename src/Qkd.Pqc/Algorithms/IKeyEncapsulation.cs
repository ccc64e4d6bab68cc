namespace Qkd.Pqc.Algorithms;

/// <summary>
/// A key encapsulation mechanism (FIPS 203 ML-KEM-768 here): the holder of a key pair publishes the encapsulation key;
/// anyone can encapsulate to it, producing a ciphertext to send and a shared secret to keep; only the holder recovers
/// the shared secret from the ciphertext. Private keys are handled as their FIPS 203 seed (d ‖ z, 64 bytes), the form
/// every implementation imports, and are the caller's to zeroise.
/// </summary>
public interface IKeyEncapsulation
{
    /// <summary>The algorithm's name as bound into derived keys ("ML-KEM-768").</summary>
    string Algorithm { get; }

    /// <summary>Which implementation runs ("platform" or "BouncyCastle"), for logs and reports.</summary>
    string Implementation { get; }

    int EncapsulationKeyBytes { get; }

    /// <summary>Size of the private key as this interface handles it: the 64-byte seed d ‖ z.</summary>
    int PrivateSeedBytes { get; }

    int CiphertextBytes { get; }

    int SharedSecretBytes { get; }

    /// <summary>A new key pair from the OS CSPRNG.</summary>
    KemKeyPair GenerateKeyPair();

    /// <summary>The encapsulation key of the key pair this seed expands to.</summary>
    byte[] EncapsulationKeyOf(ReadOnlySpan<byte> privateSeed);

    /// <summary>Encapsulates a fresh secret (OS CSPRNG) to <paramref name="encapsulationKey"/>.</summary>
    /// <exception cref="PqcException">The encapsulation key is malformed (wrong length or coefficients out of range).</exception>
    void Encapsulate(ReadOnlySpan<byte> encapsulationKey, Span<byte> ciphertext, Span<byte> sharedSecret);

    /// <summary>Recovers the shared secret. A tampered ciphertext yields an unrelated secret (implicit rejection), not an error.</summary>
    /// <exception cref="PqcException">A ciphertext or seed of the wrong length.</exception>
    void Decapsulate(ReadOnlySpan<byte> privateSeed, ReadOnlySpan<byte> ciphertext, Span<byte> sharedSecret);
}

/// <summary>An ML-KEM key pair: the public encapsulation key and the private 64-byte seed (zeroise it with <see cref="Dispose"/>).</summary>
public sealed class KemKeyPair(byte[] encapsulationKey, byte[] privateSeed) : IDisposable
{
    public byte[] EncapsulationKey { get; } = encapsulationKey;

    public byte[] PrivateSeed { get; } = privateSeed;

    public void Dispose() => System.Security.Cryptography.CryptographicOperations.ZeroMemory(PrivateSeed);
}
