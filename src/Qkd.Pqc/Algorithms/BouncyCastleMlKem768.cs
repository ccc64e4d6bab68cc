using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Kems;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;

namespace Qkd.Pqc.Algorithms;

/// <summary>ML-KEM-768 (FIPS 203) by BouncyCastle.Cryptography, for platforms whose TLS library has none (OpenSSL before 3.5).</summary>
public sealed class BouncyCastleMlKem768 : IKeyEncapsulation
{
    private static readonly MLKemParameters Parameters = MLKemParameters.ml_kem_768;

    public string Algorithm => "ML-KEM-768";

    public string Implementation => "BouncyCastle";

    public int EncapsulationKeyBytes => 1184;

    public int PrivateSeedBytes => 64;

    public int CiphertextBytes => 1088;

    public int SharedSecretBytes => 32;

    public KemKeyPair GenerateKeyPair()
    {
        var generator = new MLKemKeyPairGenerator();
        generator.Init(new MLKemKeyGenerationParameters(OsRandom.Shared, Parameters));
        var pair = generator.GenerateKeyPair();
        var privateKey = (MLKemPrivateKeyParameters)pair.Private;
        return new KemKeyPair(((MLKemPublicKeyParameters)pair.Public).GetEncoded(), privateKey.GetSeed());
    }

    public byte[] EncapsulationKeyOf(ReadOnlySpan<byte> privateSeed) => PrivateKey(privateSeed).GetPublicKeyEncoded();

    public void Encapsulate(ReadOnlySpan<byte> encapsulationKey, Span<byte> ciphertext, Span<byte> sharedSecret) =>
        Encapsulate(encapsulationKey, ciphertext, sharedSecret, OsRandom.Shared);

    /// <summary>Encapsulation with the message m drawn from <paramref name="random"/>: known-answer tests inject m this way.</summary>
    internal void Encapsulate(ReadOnlySpan<byte> encapsulationKey, Span<byte> ciphertext, Span<byte> sharedSecret, SecureRandom random)
    {
        Require(ciphertext.Length == CiphertextBytes, $"ciphertext buffer is {ciphertext.Length} bytes, ML-KEM-768 needs {CiphertextBytes}");
        Require(sharedSecret.Length == SharedSecretBytes, $"shared secret buffer is {sharedSecret.Length} bytes, ML-KEM-768 gives {SharedSecretBytes}");
        Require(encapsulationKey.Length == EncapsulationKeyBytes,
            $"ML-KEM-768 encapsulation key is {encapsulationKey.Length} bytes, expected {EncapsulationKeyBytes}");
        MLKemPublicKeyParameters publicKey;
        try
        {
            publicKey = MLKemPublicKeyParameters.FromEncoding(Parameters, encapsulationKey.ToArray());
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            throw new PqcException("the ML-KEM-768 encapsulation key is malformed (FIPS 203 modulus check)", e);
        }
        var encapsulator = new MLKemEncapsulator(Parameters);
        encapsulator.Init(new ParametersWithRandom(publicKey, random));
        encapsulator.Encapsulate(ciphertext, sharedSecret);
    }

    public void Decapsulate(ReadOnlySpan<byte> privateSeed, ReadOnlySpan<byte> ciphertext, Span<byte> sharedSecret)
    {
        Require(ciphertext.Length == CiphertextBytes, $"ML-KEM-768 ciphertext is {ciphertext.Length} bytes, expected {CiphertextBytes}");
        Require(sharedSecret.Length == SharedSecretBytes, $"shared secret buffer is {sharedSecret.Length} bytes, ML-KEM-768 gives {SharedSecretBytes}");
        var decapsulator = new MLKemDecapsulator(Parameters);
        decapsulator.Init(PrivateKey(privateSeed));
        decapsulator.Decapsulate(ciphertext, sharedSecret);
    }

    /// <summary>The FIPS 203 expanded decapsulation key (2400 bytes) of a seed: known-answer tests compare it.</summary>
    internal static byte[] ExpandedDecapsulationKey(ReadOnlySpan<byte> privateSeed) =>
        PrivateKey(privateSeed).WithPreferredFormat(MLKemPrivateKeyParameters.Format.EncodingOnly).GetEncoded();

    private static MLKemPrivateKeyParameters PrivateKey(ReadOnlySpan<byte> privateSeed)
    {
        Require(privateSeed.Length == 64, $"ML-KEM-768 private seed is {privateSeed.Length} bytes, expected 64 (d ‖ z)");
        byte[] seed = privateSeed.ToArray();
        try
        {
            return MLKemPrivateKeyParameters.FromSeed(Parameters, seed);
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(seed);
        }
    }

    private static void Require(bool condition, string message)
    {
        if (!condition) throw new PqcException(message);
    }
}
