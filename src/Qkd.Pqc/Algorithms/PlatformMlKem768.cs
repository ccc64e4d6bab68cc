using System.Security.Cryptography;

namespace Qkd.Pqc.Algorithms;

/// <summary>ML-KEM-768 by the platform (.NET's <see cref="MLKem"/>: OpenSSL 3.5 or later, Windows CNG with PQC).</summary>
public sealed class PlatformMlKem768 : IKeyEncapsulation
{
    public PlatformMlKem768()
    {
        if (!MLKem.IsSupported) throw new PlatformNotSupportedException("this platform has no ML-KEM (OpenSSL 3.5 or later is needed); use BouncyCastleMlKem768");
    }

    public string Algorithm => "ML-KEM-768";

    public string Implementation => "platform";

    public int EncapsulationKeyBytes => MLKemAlgorithm.MLKem768.EncapsulationKeySizeInBytes;

    public int PrivateSeedBytes => MLKemAlgorithm.MLKem768.PrivateSeedSizeInBytes;

    public int CiphertextBytes => MLKemAlgorithm.MLKem768.CiphertextSizeInBytes;

    public int SharedSecretBytes => MLKemAlgorithm.MLKem768.SharedSecretSizeInBytes;

    public KemKeyPair GenerateKeyPair()
    {
        using var kem = MLKem.GenerateKey(MLKemAlgorithm.MLKem768);
        return new KemKeyPair(kem.ExportEncapsulationKey(), kem.ExportPrivateSeed());
    }

    public byte[] EncapsulationKeyOf(ReadOnlySpan<byte> privateSeed)
    {
        using var kem = ImportSeed(privateSeed);
        return kem.ExportEncapsulationKey();
    }

    public void Encapsulate(ReadOnlySpan<byte> encapsulationKey, Span<byte> ciphertext, Span<byte> sharedSecret)
    {
        if (encapsulationKey.Length != EncapsulationKeyBytes)
            throw new PqcException($"ML-KEM-768 encapsulation key is {encapsulationKey.Length} bytes, expected {EncapsulationKeyBytes}");
        MLKem kem;
        try
        {
            kem = MLKem.ImportEncapsulationKey(MLKemAlgorithm.MLKem768, encapsulationKey);
        }
        catch (CryptographicException e)
        {
            throw new PqcException("the ML-KEM-768 encapsulation key is malformed (FIPS 203 modulus check)", e);
        }
        using (kem)
            kem.Encapsulate(ciphertext, sharedSecret);
    }

    public void Decapsulate(ReadOnlySpan<byte> privateSeed, ReadOnlySpan<byte> ciphertext, Span<byte> sharedSecret)
    {
        if (ciphertext.Length != CiphertextBytes)
            throw new PqcException($"ML-KEM-768 ciphertext is {ciphertext.Length} bytes, expected {CiphertextBytes}");
        using var kem = ImportSeed(privateSeed);
        kem.Decapsulate(ciphertext, sharedSecret);
    }

    private MLKem ImportSeed(ReadOnlySpan<byte> privateSeed)
    {
        if (privateSeed.Length != PrivateSeedBytes)
            throw new PqcException($"ML-KEM-768 private seed is {privateSeed.Length} bytes, expected {PrivateSeedBytes} (d ‖ z)");
        return MLKem.ImportPrivateSeed(MLKemAlgorithm.MLKem768, privateSeed);
    }
}
