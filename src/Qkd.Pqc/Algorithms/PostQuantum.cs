using System.Security.Cryptography;

namespace Qkd.Pqc.Algorithms;

/// <summary>
/// The ML-KEM-768 and ML-DSA-65 this process uses: the platform's when it has them (.NET on OpenSSL 3.5 or later),
/// BouncyCastle's otherwise (OpenSSL 3.0 on this project's machines). Both implement the same FIPS standards and
/// exchange the same keys (seeds), ciphertexts and signatures, so two ends may use different ones.
/// </summary>
public static class PostQuantum
{
    private static readonly Lazy<IKeyEncapsulation> Kem = new(() => MLKem.IsSupported ? new PlatformMlKem768() : new BouncyCastleMlKem768());
    private static readonly Lazy<ISignatureScheme> Signatures = new(() => MLDsa.IsSupported ? new PlatformMlDsa65() : new BouncyCastleMlDsa65());

    /// <summary>ML-KEM-768.</summary>
    public static IKeyEncapsulation MlKem768 => Kem.Value;

    /// <summary>ML-DSA-65.</summary>
    public static ISignatureScheme MlDsa65 => Signatures.Value;
}
