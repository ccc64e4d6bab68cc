using System.Security.Cryptography;

namespace Qkd.Pqc.Algorithms;

/// <summary>ML-DSA-65 by the platform (.NET's <see cref="MLDsa"/>: OpenSSL 3.5 or later, Windows CNG with PQC).</summary>
public sealed class PlatformMlDsa65 : ISignatureScheme
{
    public PlatformMlDsa65()
    {
        if (!MLDsa.IsSupported) throw new PlatformNotSupportedException("this platform has no ML-DSA (OpenSSL 3.5 or later is needed); use BouncyCastleMlDsa65");
    }

    public string Algorithm => "ML-DSA-65";

    public string Implementation => "platform";

    public int PublicKeyBytes => MLDsaAlgorithm.MLDsa65.PublicKeySizeInBytes;

    public int PrivateSeedBytes => MLDsaAlgorithm.MLDsa65.PrivateSeedSizeInBytes;

    public int SignatureBytes => MLDsaAlgorithm.MLDsa65.SignatureSizeInBytes;

    public SignatureKeyPair GenerateKeyPair()
    {
        using var dsa = MLDsa.GenerateKey(MLDsaAlgorithm.MLDsa65);
        return new SignatureKeyPair(dsa.ExportMLDsaPublicKey(), dsa.ExportMLDsaPrivateSeed());
    }

    public byte[] PublicKeyOf(ReadOnlySpan<byte> privateSeed)
    {
        using var dsa = ImportSeed(privateSeed);
        return dsa.ExportMLDsaPublicKey();
    }

    public byte[] Sign(ReadOnlySpan<byte> privateSeed, ReadOnlySpan<byte> message, ReadOnlySpan<byte> context)
    {
        if (context.Length > 255) throw new PqcException($"an ML-DSA context string is at most 255 bytes, this one is {context.Length}");
        using var dsa = ImportSeed(privateSeed);
        return dsa.SignData(message.ToArray(), context.ToArray());
    }

    public bool Verify(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> message, ReadOnlySpan<byte> context, ReadOnlySpan<byte> signature)
    {
        if (context.Length > 255) throw new PqcException($"an ML-DSA context string is at most 255 bytes, this one is {context.Length}");
        if (publicKey.Length != PublicKeyBytes || signature.Length != SignatureBytes) return false;
        try
        {
            using var dsa = MLDsa.ImportMLDsaPublicKey(MLDsaAlgorithm.MLDsa65, publicKey);
            return dsa.VerifyData(message, signature, context);
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    private MLDsa ImportSeed(ReadOnlySpan<byte> privateSeed)
    {
        if (privateSeed.Length != PrivateSeedBytes)
            throw new PqcException($"ML-DSA-65 private seed is {privateSeed.Length} bytes, expected {PrivateSeedBytes} (ξ)");
        return MLDsa.ImportMLDsaPrivateSeed(MLDsaAlgorithm.MLDsa65, privateSeed);
    }
}
