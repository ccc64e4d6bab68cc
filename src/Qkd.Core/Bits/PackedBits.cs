using System.Runtime.CompilerServices;
using System.Numerics;

namespace Qkd.Core.Bits;

/// <summary>
/// A fixed-length bit string packed 64 bits per word, little-endian within a word (bit i lives in word i/64 at
/// position i%64). The representation every distillation stage works on; bits past <see cref="Length"/> in the
/// last word are kept zero so that word-wise operations (parity, XOR, hashing) need no masking.
/// </summary>
public sealed class PackedBits
{
    private readonly ulong[] _words;

    public PackedBits(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Length = length;
        _words = new ulong[WordCount(length)];
    }

    private PackedBits(long length, ulong[] words)
    {
        Length = length;
        _words = words;
    }

    /// <summary>Wraps existing words (takes ownership). Bits beyond length are cleared.</summary>
    public static PackedBits FromWords(ulong[] words, long length)
    {
        if (WordCount(length) > words.Length)
            throw new ArgumentException($"{words.Length} words cannot hold {length} bits.", nameof(words));
        var bits = new PackedBits(length, words);
        bits.ClearTail();
        return bits;
    }

    public static PackedBits FromBools(ReadOnlySpan<bool> values)
    {
        var bits = new PackedBits(values.Length);
        for (int i = 0; i < values.Length; i++)
            if (values[i]) bits.Set(i, true);
        return bits;
    }

    public static int WordCount(long bitLength) => checked((int)((bitLength + 63) >> 6));

    public long Length { get; }

    /// <summary>The backing words; the last word's bits past <see cref="Length"/> must stay zero.</summary>
    public Span<ulong> Words => _words.AsSpan(0, WordCount(Length));

    public ulong[] RawWords => _words;

    public bool this[long index]
    {
        get => Get(index);
        set => Set(index, value);
    }

    public bool Get(long index)
    {
        if ((ulong)index >= (ulong)Length) ThrowIndex(index);
        return ((_words[index >> 6] >> (int)(index & 63)) & 1) != 0;
    }

    public int GetBit(long index) => Get(index) ? 1 : 0;

    public void Set(long index, bool value)
    {
        if ((ulong)index >= (ulong)Length) ThrowIndex(index);
        ulong mask = 1UL << (int)(index & 63);
        if (value) _words[index >> 6] |= mask;
        else _words[index >> 6] &= ~mask;
    }

    public void Flip(long index)
    {
        if ((ulong)index >= (ulong)Length) ThrowIndex(index);
        _words[index >> 6] ^= 1UL << (int)(index & 63);
    }

    /// <summary>Number of set bits.</summary>
    public long PopCount()
    {
        long count = 0;
        foreach (ulong w in Words) count += BitOperations.PopCount(w);
        return count;
    }

    /// <summary>XOR of the bits in [start, start + count).</summary>
    public int Parity(long start, long count)
    {
        if (start < 0 || count < 0 || start + count > Length)
            throw new ArgumentOutOfRangeException(nameof(count), $"Range [{start}, {start + count}) is outside 0..{Length}.");
        return RangeParity(_words, start, count);
    }

    /// <summary>XOR of bits [start, start+count) of a packed word array, no bounds checks beyond the array's.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int RangeParity(ReadOnlySpan<ulong> words, long start, long count)
    {
        if (count == 0) return 0;
        long end = start + count; // exclusive
        int firstWord = (int)(start >> 6), lastWord = (int)((end - 1) >> 6);
        ulong headMask = ~0UL << (int)(start & 63);
        ulong tailMask = ~0UL >> (int)(63 - ((end - 1) & 63));
        if (firstWord == lastWord)
            return BitOperations.PopCount(words[firstWord] & headMask & tailMask) & 1;
        ulong acc = (words[firstWord] & headMask) ^ (words[lastWord] & tailMask);
        for (int w = firstWord + 1; w < lastWord; w++)
            acc ^= words[w];
        return BitOperations.PopCount(acc) & 1;
    }

    /// <summary>Number of positions where this and <paramref name="other"/> differ.</summary>
    public long HammingDistance(PackedBits other)
    {
        if (other.Length != Length) throw new ArgumentException("Bit strings differ in length.", nameof(other));
        long d = 0;
        var a = Words;
        var b = other.Words;
        for (int i = 0; i < a.Length; i++) d += BitOperations.PopCount(a[i] ^ b[i]);
        return d;
    }

    public PackedBits Clone() => new(Length, (ulong[])_words.Clone());

    /// <summary>Copies bits [start, start+count) into a new bit string.</summary>
    public PackedBits Slice(long start, long count)
    {
        if (start < 0 || count < 0 || start + count > Length) throw new ArgumentOutOfRangeException(nameof(count));
        var result = new PackedBits(count);
        if ((start & 63) == 0)
        {
            _words.AsSpan((int)(start >> 6), WordCount(count)).CopyTo(result._words);
        }
        else
        {
            int shift = (int)(start & 63);
            int src = (int)(start >> 6);
            for (int w = 0; w < result._words.Length; w++)
            {
                ulong lo = _words[src + w] >> shift;
                ulong hi = src + w + 1 < _words.Length ? _words[src + w + 1] << (64 - shift) : 0;
                result._words[w] = lo | hi;
            }
        }
        result.ClearTail();
        return result;
    }

    /// <summary>Overwrites bits [start, start + source.Length) with <paramref name="source"/>.</summary>
    public void CopyFrom(PackedBits source, long start)
    {
        if (start < 0 || start + source.Length > Length)
            throw new ArgumentOutOfRangeException(nameof(start), $"Range [{start}, {start + source.Length}) is outside 0..{Length}.");
        long i = 0;
        // Bit-wise until the destination is word aligned, then whole words.
        for (; i < source.Length && ((start + i) & 63) != 0; i++) Set(start + i, source.Get(i));
        for (; i + 64 <= source.Length; i += 64)
            _words[(start + i) >> 6] = ReadWord(source._words, i);
        for (; i < source.Length; i++) Set(start + i, source.Get(i));
    }

    private static ulong ReadWord(ulong[] words, long bitOffset)
    {
        int w = (int)(bitOffset >> 6), shift = (int)(bitOffset & 63);
        if (shift == 0) return words[w];
        ulong hi = w + 1 < words.Length ? words[w + 1] << (64 - shift) : 0;
        return (words[w] >> shift) | hi;
    }

    /// <summary>The bits as bytes, bit i at byte i/8 bit i%8 (the on-disk and on-wire key format).</summary>
    public byte[] ToBytes()
    {
        var bytes = new byte[(Length + 7) / 8];
        var words = Words;
        for (int i = 0; i < bytes.Length; i++)
            bytes[i] = (byte)(words[i >> 3] >> ((i & 7) * 8));
        return bytes;
    }

    public static PackedBits FromBytes(ReadOnlySpan<byte> bytes, long length)
    {
        if ((length + 7) / 8 > bytes.Length) throw new ArgumentException("Too few bytes for the requested length.", nameof(bytes));
        var bits = new PackedBits(length);
        for (int i = 0; i < (length + 7) / 8; i++)
            bits._words[i >> 3] |= (ulong)bytes[i] << ((i & 7) * 8);
        bits.ClearTail();
        return bits;
    }

    /// <summary>Overwrites every word with zeros (used to zeroise key material).</summary>
    public void Clear() => Array.Clear(_words);

    public bool ContentEquals(PackedBits other) => other.Length == Length && Words.SequenceEqual(other.Words);

    private void ClearTail()
    {
        int used = (int)(Length & 63);
        int count = WordCount(Length);
        if (used != 0) _words[count - 1] &= (1UL << used) - 1;
        if (_words.Length > count) Array.Clear(_words, count, _words.Length - count);
    }

    private void ThrowIndex(long index) =>
        throw new ArgumentOutOfRangeException(nameof(index), index, $"Bit index outside 0..{Length - 1}.");
}
