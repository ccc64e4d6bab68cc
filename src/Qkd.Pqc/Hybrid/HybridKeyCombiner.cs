using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Qkd.Pqc.Hybrid;

/// <summary>
/// Combines a QKD key with an ML-KEM shared secret into one key that stays secret while EITHER input does: the
/// concatenation KDF of ETSI TS 103 744 (CatKDF) instantiated with HKDF (RFC 5869), as NIST SP 800-56C Rev. 2 permits
/// for a hybrid shared secret Z' = Z ‖ T.
/// <code>
/// PRK = HKDF-Extract(salt = "QkdDriver/hybrid-kdf/v1", IKM = qkd_key ‖ kem_secret)
/// key = HKDF-Expand(PRK, info = Encode(context), L = output length)
/// </code>
/// Encode(context) is the label, then every field length-prefixed (u16 big-endian): purpose, "QKD", KEM algorithm, KDF
/// name, the two input lengths, output length, key ID (16 bytes, RFC 9562 order), master ID, slave ID, KEM ciphertext,
/// transcript. Length prefixes make the encoding injective, so two different contexts never give the same info.
/// See README.md ("Hybrid keys") for why this is safe if either input is secret.
/// </summary>
public sealed class HybridKeyCombiner
{
    private static readonly byte[] Salt = "QkdDriver/hybrid-kdf/v1"u8.ToArray();

    /// <param name="hash">SHA-384 (default: CNSA 2.0's hash, 192-bit collision resistance) or SHA-256.</param>
    public HybridKeyCombiner(HashAlgorithmName? hash = null)
    {
        Hash = hash ?? HashAlgorithmName.SHA384;
        if (Hash != HashAlgorithmName.SHA256 && Hash != HashAlgorithmName.SHA384)
            throw new ArgumentException($"hybrid combiner hash {Hash.Name} is not supported: use SHA256 or SHA384", nameof(hash));
        KdfName = "HKDF-" + Hash.Name;
    }

    /// <summary>The default combiner (HKDF-SHA384).</summary>
    public static HybridKeyCombiner Default { get; } = new();

    public HashAlgorithmName Hash { get; }

    /// <summary>"HKDF-SHA384" or "HKDF-SHA256", bound into every derived key.</summary>
    public string KdfName { get; }

    /// <summary>
    /// Writes the hybrid key into <paramref name="output"/> (usually as long as the QKD key). The inputs are not
    /// changed; the intermediate buffers are zeroised.
    /// </summary>
    public void Combine(ReadOnlySpan<byte> qkdKey, ReadOnlySpan<byte> kemSecret, in HybridContext context, Span<byte> output)
    {
        if (qkdKey.Length < 16) throw new ArgumentException($"QKD key of {qkdKey.Length} bytes: the combiner needs at least 16", nameof(qkdKey));
        if (kemSecret.Length < 16) throw new ArgumentException($"KEM secret of {kemSecret.Length} bytes: the combiner needs at least 16", nameof(kemSecret));
        if (output.Length is < 16 or > 255 * 32) throw new ArgumentException($"hybrid key of {output.Length} bytes: 16 to 8160", nameof(output));

        int ikmLength = qkdKey.Length + kemSecret.Length;
        Span<byte> ikm = ikmLength <= 256 ? stackalloc byte[ikmLength] : new byte[ikmLength];
        Span<byte> prk = stackalloc byte[Hash == HashAlgorithmName.SHA384 ? 48 : 32];
        byte[] info = Info(context, qkdKey.Length, kemSecret.Length, output.Length);
        try
        {
            qkdKey.CopyTo(ikm);
            kemSecret.CopyTo(ikm[qkdKey.Length..]);
            HKDF.Extract(Hash, ikm, Salt, prk);
            HKDF.Expand(Hash, prk, output, info);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(ikm);
            CryptographicOperations.ZeroMemory(prk);
        }
    }

    /// <summary>The hybrid key as a new array of <paramref name="outputBytes"/> (the caller zeroises it).</summary>
    public byte[] Combine(ReadOnlySpan<byte> qkdKey, ReadOnlySpan<byte> kemSecret, in HybridContext context, int outputBytes)
    {
        var output = new byte[outputBytes];
        Combine(qkdKey, kemSecret, context, output);
        return output;
    }

    private byte[] Info(in HybridContext c, int qkdBytes, int kemBytes, int outputBytes)
    {
        var buffer = new List<byte>(256 + c.KemCiphertext.Length + c.Transcript.Length);
        void Field(ReadOnlySpan<byte> value)
        {
            if (value.Length > ushort.MaxValue) throw new ArgumentException($"a hybrid context field of {value.Length} bytes is too long");
            Span<byte> length = stackalloc byte[2];
            BinaryPrimitives.WriteUInt16BigEndian(length, (ushort)value.Length);
            buffer.AddRange(length);
            buffer.AddRange(value);
        }
        void Text(string value) => Field(Encoding.UTF8.GetBytes(value));
        Span<byte> numbers = stackalloc byte[6];
        Span<byte> id = stackalloc byte[16];

        Field(Salt);
        Text(c.Purpose ?? "");
        Text("QKD");
        Text(c.KemAlgorithm ?? "");
        Text(KdfName);
        BinaryPrimitives.WriteUInt16BigEndian(numbers, (ushort)qkdBytes);
        BinaryPrimitives.WriteUInt16BigEndian(numbers[2..], (ushort)kemBytes);
        BinaryPrimitives.WriteUInt16BigEndian(numbers[4..], (ushort)outputBytes);
        Field(numbers);
        c.KeyId.TryWriteBytes(id, bigEndian: true, out _);
        Field(id);
        Text(c.MasterId ?? "");
        Text(c.SlaveId ?? "");
        Field(c.KemCiphertext.Span);
        Field(c.Transcript.Span);
        return buffer.ToArray();
    }
}
