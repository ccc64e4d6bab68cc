using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Qkd.Core.Bits;

namespace Qkd.Distillation.PrivacyAmplification;

/// <summary>
/// Expands a 32-byte seed, drawn by one end and sent in the clear, into the n + l - 1 bits of a Toeplitz matrix.
/// <para>
/// The stream is AES-256 in counter mode keyed with the seed: block j (j = 0, 1, ...) is the encryption of the 16-byte
/// big-endian integer j, and the bits are the concatenated ciphertext bytes, byte b feeding bits 8b .. 8b+7 least
/// significant bit first (the <see cref="PackedBits.FromBytes"/> order). Both ends must use this exact stream, so the
/// layout is part of the protocol. A fresh seed is drawn for every block, so no nonce is needed.
/// </para>
/// <para>
/// Why a PRG is acceptable here: the seed is public, so the matrix need not be secret, only independent of the key;
/// the leftover hash lemma then needs the family to be (close to) 2-universal, which a pseudorandom expansion preserves
/// against any efficient distinguisher. Implementations that want information-theoretic security end to end can draw
/// all n + l - 1 bits from their random source instead and skip this class.
/// </para>
/// </summary>
public static class ToeplitzSeed
{
    /// <summary>Bytes of the shared seed (an AES-256 key).</summary>
    public const int SeedBytes = 32;

    private const int BlockBytes = 16;

    /// <summary>Counter blocks encrypted per AES call (64 KB), to amortise the call without a large buffer.</summary>
    private const int BlocksPerBatch = 4096;

    /// <summary>The first <paramref name="bitCount"/> bits of the AES-256-CTR stream keyed by <paramref name="seed32"/>.</summary>
    public static PackedBits Expand(ReadOnlySpan<byte> seed32, long bitCount)
    {
        if (seed32.Length != SeedBytes)
            throw new ArgumentException($"The Toeplitz seed must be {SeedBytes} bytes, got {seed32.Length}.", nameof(seed32));
        ArgumentOutOfRangeException.ThrowIfNegative(bitCount);

        var bits = new PackedBits(bitCount);
        Span<byte> stream = MemoryMarshal.AsBytes(bits.Words);
        long byteCount = (bitCount + 7) / 8;
        if (byteCount == 0) return bits;

        using Aes aes = Aes.Create();
        aes.SetKey(seed32);
        byte[] counters = new byte[BlocksPerBatch * BlockBytes];
        byte[] cipher = new byte[BlocksPerBatch * BlockBytes];
        ulong block = 0;
        for (long done = 0; done < byteCount;)
        {
            long remaining = byteCount - done;
            int blocks = (int)Math.Min(BlocksPerBatch, (remaining + BlockBytes - 1) / BlockBytes);
            for (int b = 0; b < blocks; b++, block++)
            {
                // 128-bit big-endian counter; the high 64 bits stay zero (2^64 blocks is far beyond any key block).
                BinaryPrimitives.WriteUInt64BigEndian(counters.AsSpan(b * BlockBytes + 8, 8), block);
            }
            int produced = aes.EncryptEcb(counters.AsSpan(0, blocks * BlockBytes), cipher, PaddingMode.None);
            int take = (int)Math.Min(produced, remaining);
            cipher.AsSpan(0, take).CopyTo(stream.Slice(checked((int)done), take));
            done += take;
        }
        CryptographicOperations.ZeroMemory(cipher);

        if (!BitConverter.IsLittleEndian)
        {
            // The bytes were laid out in stream order; PackedBits wants byte b in bits 8(b%8).. of word b/8.
            Span<ulong> words = bits.Words;
            for (int w = 0; w < words.Length; w++) words[w] = BinaryPrimitives.ReverseEndianness(words[w]);
        }
        // Clear the bits past bitCount in the last word (the stream filled whole bytes).
        return PackedBits.FromWords(bits.RawWords, bitCount);
    }
}
