// PRE-CHANGE BASELINE (issue 14, sifting): a verbatim copy of the product code as it was before the sifting rewrite,
// renamed, used only by the benchmarks to time the old code against the new in the same run. Not product code.
using System.Numerics;
using System.Runtime.CompilerServices;
using Qkd.Core;
using Qkd.Core.Bits;

namespace Qkd.Reference;
using Qkd.Distillation.Sifting;

/// <summary>
/// The sifted records of one basis, in sifting order, waiting to be cut into blocks: one bit and one intensity class
/// per record. Both ends append in the same order, so "the first N records" names the same pulses at Alice and Bob.
/// Storage grows by doubling and is reused across blocks. The bits are raw key: every copy made here (the working copies
/// of <see cref="TakeFront"/>, the old arrays left behind by growing) is zeroised, and <see cref="Zeroise"/> clears the
/// storage itself.
/// </summary>
public sealed class PreSiftedBuffer
{
    private ulong[] _bits = new ulong[1024];
    private byte[] _intensities = new byte[65536];

    public long Count { get; private set; }

    /// <summary>The array holding the bits now, for the tests.</summary>
    internal ulong[] Storage => _bits;

    public void Append(byte bit, Intensity intensity)
    {
        if (Count == (long)_intensities.Length)
            Grow();
        if (bit != 0) _bits[Count >> 6] |= 1UL << (int)(Count & 63);
        _intensities[Count] = (byte)intensity;
        Count++;
    }

    /// <summary>
    /// Appends the records of up to 64 detections that <paramref name="select"/> picks (bit i: detection i), in order:
    /// bit i of <paramref name="bits"/> and <paramref name="intensities"/>[i] each. The same records as
    /// <see cref="Append"/> one by one, without a branch per record: the bits are gathered by a bit extract and
    /// OR-ed in at most two words, the intensity classes eight at a time by a byte extract.
    /// </summary>
    /// <param name="intensities">One class per detection, at least as many as the highest selected one.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void AppendSelected(ulong bits, ReadOnlySpan<byte> intensities, ulong select)
    {
        if (select == 0) return;
        int n = BitOperations.PopCount(select);
        if (intensities.Length < 64 - BitOperations.LeadingZeroCount(select))
            throw new ArgumentException($"{intensities.Length} intensity classes for a selection up to detection {63 - BitOperations.LeadingZeroCount(select)}.", nameof(intensities));
        // Room for 64 records and 8 bytes of slack: the byte extract stores whole 8-byte words.
        while (Count + 72 > _intensities.Length)
            Grow();

        ulong packed = PreBitSelect.Extract(bits, select);
        long at = Count;
        int word = (int)(at >> 6), shift = (int)(at & 63);
        // The bits past Count are zero (every path that shortens the buffer clears them), so OR places the new ones.
        _bits[word] |= packed << shift;
        if (shift != 0 && shift + n > 64) _bits[word + 1] |= packed >> (64 - shift);

        ref byte destination = ref _intensities[at];
        int written = 0;
        for (int group = 0; group < 64 && (select >> group) != 0; group += 8)
        {
            ulong take = (select >> group) & 0xFF;
            if (take == 0) continue;
            ulong eight = group + 8 <= intensities.Length
                ? Unsafe.ReadUnaligned<ulong>(ref Unsafe.AsRef(in intensities[group]))
                : Tail(intensities[group..]);
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref destination, written), PreBitSelect.ExtractBytes(eight, take));
            written += BitOperations.PopCount(take);
        }
        Count = at + n;

        static ulong Tail(ReadOnlySpan<byte> rest)
        {
            ulong value = 0;
            for (int i = 0; i < rest.Length && i < 8; i++) value |= (ulong)rest[i] << (8 * i);
            return value;
        }
    }

    /// <summary>Removes the first <paramref name="count"/> records and returns their bits and intensity classes.</summary>
    public (PackedBits Bits, byte[] Intensities) TakeFront(long count)
    {
        if (count < 0 || count > Count)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"Only {Count} sifted records are buffered.");
        // FromWords wraps the storage (no copy); Slice copies. The leftover's copy is zeroised once moved to the front.
        var all = PackedBits.FromWords(_bits, Count);
        var taken = all.Slice(0, count);
        var rest = all.Slice(count, Count - count);
        byte[] intensities = _intensities.AsSpan(0, checked((int)count)).ToArray();

        long remaining = Count - count;
        Array.Clear(_bits);
        rest.Words.CopyTo(_bits);
        rest.Clear();
        _intensities.AsSpan((int)count, (int)remaining).CopyTo(_intensities);
        Count = remaining;
        return (taken, intensities);
    }

    /// <summary>Overwrites buffered bits with zeros (raw key material must not linger in memory after a session).</summary>
    public void Zeroise()
    {
        Array.Clear(_bits);
        Count = 0;
    }

    private void Grow()
    {
        int newCapacity = checked(_intensities.Length * 2);
        Array.Resize(ref _intensities, newCapacity);
        // Not Array.Resize: the old array would be left to the GC with the bits in it.
        var bits = new ulong[PackedBits.WordCount(newCapacity)];
        _bits.CopyTo(bits, 0);
        Array.Clear(_bits);
        _bits = bits;
    }
}
