using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Qkd.Core.Random;

/// <summary>
/// Combines a device's entropy (a QRNG's checked bytes) with the OS CSPRNG's into key material, so that either source
/// alone being good suffices: key = HKDF-SHA256 (RFC 5869) with input keying material = device bytes ‖ OS bytes, a
/// fixed salt naming this construction, and <c>info</c> = the caller's context ‖ a 64-bit little-endian counter. HKDF's
/// extract step is HMAC-SHA256 over the concatenation: if either half is uniformly random and unknown to an attacker,
/// the output is pseudorandom to him (a QRNG that is silently broken leaves the OS half; an OS generator that is
/// compromised leaves the QRNG half). Pure computation apart from reading the OS CSPRNG; no allocation.
/// </summary>
public static class EntropyMixer
{
    /// <summary>Bytes taken from each source for one key: 256 bits, the key size of the generators they key.</summary>
    public const int SourceBytes = 32;

    /// <summary>The HKDF salt: names the construction, so its keys never coincide with another HKDF use of the same inputs.</summary>
    private static ReadOnlySpan<byte> Salt => "QkdDriver entropy mixer v1: device || os"u8;

    /// <summary>
    /// key = HKDF-SHA256(ikm = <paramref name="deviceEntropy"/> ‖ <paramref name="osEntropy"/>, salt, info =
    /// <paramref name="context"/> ‖ LE64(<paramref name="counter"/>)), <paramref name="key"/>.Length bytes (1 .. 8160).
    /// </summary>
    public static void Mix(ReadOnlySpan<byte> deviceEntropy, ReadOnlySpan<byte> osEntropy, ReadOnlySpan<byte> context, ulong counter, Span<byte> key)
    {
        if (deviceEntropy.IsEmpty || osEntropy.IsEmpty) throw new ArgumentException("Both sources must contribute bytes.");
        if (deviceEntropy.Length + osEntropy.Length > 256) throw new ArgumentException("At most 256 bytes of input keying material.");
        if (context.Length > 200) throw new ArgumentException("The context is at most 200 bytes.", nameof(context));
        if (key.IsEmpty || key.Length > 255 * 32) throw new ArgumentOutOfRangeException(nameof(key), key.Length, "HKDF-SHA256 gives 1 .. 8160 bytes.");
        Span<byte> ikm = stackalloc byte[deviceEntropy.Length + osEntropy.Length];
        Span<byte> info = stackalloc byte[context.Length + sizeof(ulong)];
        try
        {
            deviceEntropy.CopyTo(ikm);
            osEntropy.CopyTo(ikm[deviceEntropy.Length..]);
            context.CopyTo(info);
            BinaryPrimitives.WriteUInt64LittleEndian(info[context.Length..], counter);
            HKDF.DeriveKey(HashAlgorithmName.SHA256, ikm, key, Salt, info);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(ikm);
        }
    }

    /// <summary>
    /// <see cref="Mix"/> with <see cref="SourceBytes"/> fresh bytes of the OS CSPRNG as the second source (zeroed after use).
    /// </summary>
    public static void MixWithOperatingSystem(ReadOnlySpan<byte> deviceEntropy, ReadOnlySpan<byte> context, ulong counter, Span<byte> key)
    {
        Span<byte> os = stackalloc byte[SourceBytes];
        try
        {
            RandomNumberGenerator.Fill(os);
            Mix(deviceEntropy, os, context, counter, key);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(os);
        }
    }
}
