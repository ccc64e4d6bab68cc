using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;

namespace Qkd.Pqc.Algorithms;

/// <summary>ML-DSA-65 (FIPS 204, pure, hedged) by BouncyCastle.Cryptography, for platforms whose TLS library has none.</summary>
public sealed class BouncyCastleMlDsa65 : ISignatureScheme
{
    private static readonly MLDsaParameters Parameters = MLDsaParameters.ml_dsa_65;

    public string Algorithm => "ML-DSA-65";

    public string Implementation => "BouncyCastle";

    public int PublicKeyBytes => 1952;

    public int PrivateSeedBytes => 32;

    public int SignatureBytes => 3309;

    public SignatureKeyPair GenerateKeyPair()
    {
        var generator = new MLDsaKeyPairGenerator();
        generator.Init(new MLDsaKeyGenerationParameters(OsRandom.Shared, Parameters));
        var pair = generator.GenerateKeyPair();
        return new SignatureKeyPair(((MLDsaPublicKeyParameters)pair.Public).GetEncoded(), ((MLDsaPrivateKeyParameters)pair.Private).GetSeed());
    }

    public byte[] PublicKeyOf(ReadOnlySpan<byte> privateSeed) => PrivateKey(privateSeed).GetPublicKeyEncoded();

    public byte[] Sign(ReadOnlySpan<byte> privateSeed, ReadOnlySpan<byte> message, ReadOnlySpan<byte> context) =>
        Sign(privateSeed, message, context, deterministic: false);

    /// <summary>Hedged (fresh randomness, the default) or deterministic signing; known-answer tests use the deterministic variant.</summary>
    internal byte[] Sign(ReadOnlySpan<byte> privateSeed, ReadOnlySpan<byte> message, ReadOnlySpan<byte> context, bool deterministic)
    {
        RequireContext(context);
        var signer = new MLDsaSigner(Parameters, deterministic);
        Org.BouncyCastle.Crypto.ICipherParameters key = deterministic
            ? PrivateKey(privateSeed)
            : new ParametersWithRandom(PrivateKey(privateSeed), OsRandom.Shared);
        signer.Init(true, new ParametersWithContext(key, context.ToArray()));
        signer.BlockUpdate(message);
        return signer.GenerateSignature();
    }

    public bool Verify(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> message, ReadOnlySpan<byte> context, ReadOnlySpan<byte> signature)
    {
        RequireContext(context);
        if (publicKey.Length != PublicKeyBytes || signature.Length != SignatureBytes) return false;
        MLDsaPublicKeyParameters key;
        try
        {
            key = MLDsaPublicKeyParameters.FromEncoding(Parameters, publicKey.ToArray());
        }
        catch (ArgumentException)
        {
            return false;
        }
        var verifier = new MLDsaSigner(Parameters, deterministic: false);
        verifier.Init(false, new ParametersWithContext(key, context.ToArray()));
        verifier.BlockUpdate(message);
        return verifier.VerifySignature(signature.ToArray());
    }

    private static MLDsaPrivateKeyParameters PrivateKey(ReadOnlySpan<byte> privateSeed)
    {
        if (privateSeed.Length != 32) throw new PqcException($"ML-DSA-65 private seed is {privateSeed.Length} bytes, expected 32 (ξ)");
        byte[] seed = privateSeed.ToArray();
        try
        {
            return MLDsaPrivateKeyParameters.FromSeed(Parameters, seed);
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(seed);
        }
    }

    private static void RequireContext(ReadOnlySpan<byte> context)
    {
        if (context.Length > 255) throw new PqcException($"an ML-DSA context string is at most 255 bytes, this one is {context.Length}");
    }
}
