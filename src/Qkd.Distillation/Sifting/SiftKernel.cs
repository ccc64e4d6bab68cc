using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Qkd.Core;

namespace Qkd.Distillation.Sifting;

/// <summary>
/// The per-detection work of sifting, on whole batches: Alice's basis comparison (<see cref="Match"/>) and both ends'
/// sorting of the kept records into the sifted buffers with the statistics (<see cref="Sort"/>). 64 detections a
/// step as bit masks (basis, bit, kept flag, intensity class: one bit of each detection's byte, gathered by a vector
/// move-mask), counted by popcount and appended by bit extract: no branch and no call per detection. Gives exactly
/// the records, order and counts of the per-detection loop it replaced (kept as the reference in the tests and
/// benchmarks).
/// </summary>
internal static class SiftKernel
{
    /// <summary>
    /// Alice's comparison: for each detection, 1 in <paramref name="keep"/> when her basis (bit 0 of the packed symbol)
    /// equals Bob's, and her intensity class (bits 2-3) in <paramref name="intensities"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Match(ReadOnlySpan<byte> symbols, ReadOnlySpan<byte> bobBases, Span<byte> keep, Span<byte> intensities)
    {
        int n = symbols.Length;
        if (bobBases.Length != n || keep.Length < n || intensities.Length < n)
            throw new ArgumentException($"Sift batch of {n} symbols with {bobBases.Length} bases, {keep.Length} flags and {intensities.Length} classes.");
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref byte s = ref MemoryMarshal.GetReference(symbols);
            ref byte b = ref MemoryMarshal.GetReference(bobBases);
            ref byte k = ref MemoryMarshal.GetReference(keep);
            ref byte c = ref MemoryMarshal.GetReference(intensities);
            var one = Vector256.Create((byte)1);
            var three = Vector256.Create((byte)3);
            for (; i + 32 <= n; i += 32)
            {
                var symbol = Vector256.LoadUnsafe(ref s, (nuint)i);
                var basis = Vector256.LoadUnsafe(ref b, (nuint)i);
                (Vector256.Equals(symbol & one, basis) & one).StoreUnsafe(ref k, (nuint)i);
                (Vector256.ShiftRightLogical(symbol, 2) & three).StoreUnsafe(ref c, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            keep[i] = (byte)((symbols[i] & 1) == bobBases[i] ? 1 : 0);
            intensities[i] = (byte)((symbols[i] >> 2) & 3);
        }
    }

    /// <summary>
    /// Appends the kept detections' records to the Z or X buffer by basis, in detection order, and adds the batch to
    /// <paramref name="statistics"/>. Detection i's basis is bit <paramref name="basisBit"/> of <paramref name="bases"/>[i],
    /// its key bit is bit <paramref name="bitBit"/> of <paramref name="bits"/>[i], kept when <paramref name="keep"/>[i]
    /// is 1 (0 or 1 only), its class <paramref name="intensities"/>[i] (0..2).
    /// </summary>
    /// <param name="selected">Empty, or two words per 64 detections: which of them became Z records, then which X
    /// (Bob's block bookkeeping needs the Z records' pulses and the X count before each block's end).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Sort(ReadOnlySpan<byte> bases, int basisBit, ReadOnlySpan<byte> bits, int bitBit,
        ReadOnlySpan<byte> keep, ReadOnlySpan<byte> intensities, SiftedBuffer z, SiftedBuffer x,
        SiftingStatistics statistics, Span<ulong> selected = default)
    {
        int n = keep.Length;
        if (bases.Length < n || bits.Length < n || intensities.Length < n)
            throw new ArgumentException($"Sift batch of {n} flags with {bases.Length} bases, {bits.Length} bits and {intensities.Length} classes.");
        if (!selected.IsEmpty && selected.Length < 2 * ((n + 63) / 64))
            throw new ArgumentException($"{selected.Length} words for the selections of {n} detections.", nameof(selected));
        long d0 = 0, d1 = 0, d2 = 0, z0 = 0, z1 = 0, z2 = 0, x0 = 0, x1 = 0, x2 = 0;
        for (int start = 0, word = 0; start < n; start += 64, word++)
        {
            int length = Math.Min(64, n - start);
            ulong all = length == 64 ? ulong.MaxValue : (1UL << length) - 1;
            var classes = intensities.Slice(start, length);
            ulong basisX = Mask(bases.Slice(start, length), basisBit);
            ulong bit = Mask(bits.Slice(start, length), bitBit);
            ulong kept = Mask(keep.Slice(start, length), 0);
            ulong low = Mask(classes, 0), high = Mask(classes, 1);
            ulong signal = ~low & ~high & all, decoy = low & ~high, vacuum = high & ~low;
            ulong zKept = kept & ~basisX, xKept = kept & basisX;
            d0 += BitOperations.PopCount(signal); d1 += BitOperations.PopCount(decoy); d2 += BitOperations.PopCount(vacuum);
            z0 += BitOperations.PopCount(zKept & signal); z1 += BitOperations.PopCount(zKept & decoy); z2 += BitOperations.PopCount(zKept & vacuum);
            x0 += BitOperations.PopCount(xKept & signal); x1 += BitOperations.PopCount(xKept & decoy); x2 += BitOperations.PopCount(xKept & vacuum);
            z.AppendSelected(bit, classes, zKept);
            x.AppendSelected(bit, classes, xKept);
            if (!selected.IsEmpty)
            {
                selected[2 * word] = zKept;
                selected[2 * word + 1] = xKept;
            }
        }
        statistics.Add([d0, d1, d2], [z0, z1, z2], [x0, x1, x2]);
    }

    /// <summary>
    /// Alice's whole sift batch from the wire up (<see cref="Match"/>, <see cref="Sort"/> and the reply's packing in one
    /// pass, 64 detections a step): her packed symbols (<paramref name="symbols"/>, bit 0 basis, bit 1 bit, bits 2-3 class)
    /// against Bob's bases as the request carries them (<paramref name="bobBasesPacked"/>, one bit each). Appends her
    /// records to <paramref name="z"/> and <paramref name="x"/>, adds the batch to <paramref name="statistics"/>, and writes
    /// the reply's lists in their wire form: the kept flags one bit each into <paramref name="keptPacked"/>
    /// (ceil(n / 8) bytes), the classes two bits each into <paramref name="classesPacked"/> (ceil(n / 4) bytes). The
    /// same records, counts and bytes as <see cref="Match"/>, <see cref="Sort"/> and <see cref="Protocol.ValuePacking"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AliceSift(ReadOnlySpan<byte> symbols, ReadOnlySpan<byte> bobBasesPacked, Span<byte> keptPacked, Span<byte> classesPacked,
        SiftedBuffer z, SiftedBuffer x, SiftingStatistics statistics)
    {
        int n = symbols.Length;
        if (bobBasesPacked.Length < (n + 7) / 8 || keptPacked.Length < (n + 7) / 8 || classesPacked.Length < (n + 3) / 4)
            throw new ArgumentException($"Sift batch of {n} symbols with {bobBasesPacked.Length} bytes of bases, {keptPacked.Length} of flags and {classesPacked.Length} of classes.");
        long d0 = 0, d1 = 0, d2 = 0, z0 = 0, z1 = 0, z2 = 0, x0 = 0, x1 = 0, x2 = 0;
        Span<byte> tail = stackalloc byte[16];
        for (int start = 0; start < n; start += 64)
        {
            int length = Math.Min(64, n - start);
            ulong all = length == 64 ? ulong.MaxValue : (1UL << length) - 1;
            var chunk = symbols.Slice(start, length);
            ulong basisA, bit, low, high;
            if (length == 64 && Vector256.IsHardwareAccelerated)
                Masks(ref MemoryMarshal.GetReference(chunk), out basisA, out bit, out low, out high);
            else
            {
                basisA = Mask(chunk, 0);
                bit = Mask(chunk, 1);
                low = Mask(chunk, 2);
                high = Mask(chunk, 3);
            }
            int flagBytes = (length + 7) / 8, classBytes = (length + 3) / 4;
            ulong basisB = length == 64
                ? BinaryPrimitives.ReadUInt64LittleEndian(bobBasesPacked.Slice(start / 8, 8))
                : Tail(bobBasesPacked.Slice(start / 8, flagBytes)) & all;
            ulong kept = ~(basisA ^ basisB) & all;
            ulong signal = ~low & ~high & all, decoy = low & ~high, vacuum = high & ~low;
            ulong zKept = kept & ~basisA, xKept = kept & basisA;
            d0 += BitOperations.PopCount(signal); d1 += BitOperations.PopCount(decoy); d2 += BitOperations.PopCount(vacuum);
            z0 += BitOperations.PopCount(zKept & signal); z1 += BitOperations.PopCount(zKept & decoy); z2 += BitOperations.PopCount(zKept & vacuum);
            x0 += BitOperations.PopCount(xKept & signal); x1 += BitOperations.PopCount(xKept & decoy); x2 += BitOperations.PopCount(xKept & vacuum);
            z.AppendSelected(bit, low, high, zKept);
            x.AppendSelected(bit, low, high, xKept);
            // The reply: flag i at bit i, class i at bits 2i (low) and 2i + 1 (high).
            ulong classes0 = BitSelect.Deposit(low, 0x5555555555555555UL) | BitSelect.Deposit(high, 0xAAAAAAAAAAAAAAAAUL);
            ulong classes1 = BitSelect.Deposit(low >> 32, 0x5555555555555555UL) | BitSelect.Deposit(high >> 32, 0xAAAAAAAAAAAAAAAAUL);
            if (length == 64)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(keptPacked.Slice(start / 8, 8), kept);
                BinaryPrimitives.WriteUInt64LittleEndian(classesPacked.Slice(start / 4, 8), classes0);
                BinaryPrimitives.WriteUInt64LittleEndian(classesPacked.Slice(start / 4 + 8, 8), classes1);
            }
            else
            {
                BinaryPrimitives.WriteUInt64LittleEndian(tail, kept);
                tail[..flagBytes].CopyTo(keptPacked.Slice(start / 8));
                BinaryPrimitives.WriteUInt64LittleEndian(tail, classes0);
                BinaryPrimitives.WriteUInt64LittleEndian(tail[8..], classes1);
                tail[..classBytes].CopyTo(classesPacked.Slice(start / 4));
            }
        }
        statistics.Add([d0, d1, d2], [z0, z1, z2], [x0, x1, x2]);
    }

    /// <summary>
    /// Bob's side of a sift reply, read from the wire form (<see cref="AliceSift"/>'s lists): <see cref="Sort"/> with the
    /// kept flags (<paramref name="keptPacked"/>) and classes (<paramref name="classesPacked"/>) taken 64 at a time
    /// straight from the message, never unpacked to a byte each. Bob's own bases and bits are one byte each (bit 0).
    /// Call <see cref="FirstInvalidClass"/> first: a class 3 here would be appended as no class at all.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BobSift(ReadOnlySpan<byte> bases, ReadOnlySpan<byte> bits, ReadOnlySpan<byte> keptPacked, ReadOnlySpan<byte> classesPacked,
        SiftedBuffer z, SiftedBuffer x, SiftingStatistics statistics, Span<ulong> selected)
    {
        int n = bases.Length;
        if (bits.Length < n || keptPacked.Length < (n + 7) / 8 || classesPacked.Length < (n + 3) / 4 || selected.Length < 2 * ((n + 63) / 64))
            throw new ArgumentException($"Sift batch of {n} bases with {bits.Length} bits, {keptPacked.Length} bytes of flags, {classesPacked.Length} of classes and {selected.Length} selection words.");
        long d0 = 0, d1 = 0, d2 = 0, z0 = 0, z1 = 0, z2 = 0, x0 = 0, x1 = 0, x2 = 0;
        for (int start = 0, word = 0; start < n; start += 64, word++)
        {
            int length = Math.Min(64, n - start);
            ulong all = length == 64 ? ulong.MaxValue : (1UL << length) - 1;
            ulong basisX = Mask(bases.Slice(start, length), 0);
            ulong bit = Mask(bits.Slice(start, length), 0);
            ulong kept, classes0, classes1;
            if (length == 64)
            {
                kept = BinaryPrimitives.ReadUInt64LittleEndian(keptPacked.Slice(start / 8, 8));
                classes0 = BinaryPrimitives.ReadUInt64LittleEndian(classesPacked.Slice(start / 4, 8));
                classes1 = BinaryPrimitives.ReadUInt64LittleEndian(classesPacked.Slice(start / 4 + 8, 8));
            }
            else
            {
                int classBytes = (length + 3) / 4;
                kept = Tail(keptPacked.Slice(start / 8, (length + 7) / 8)) & all;
                var rest = classesPacked.Slice(start / 4, classBytes);
                classes0 = Tail(rest[..Math.Min(8, classBytes)]);
                classes1 = classBytes > 8 ? Tail(rest[8..]) : 0;
            }
            ulong low = (BitSelect.Extract(classes0, 0x5555555555555555UL) | BitSelect.Extract(classes1, 0x5555555555555555UL) << 32) & all;
            ulong high = (BitSelect.Extract(classes0, 0xAAAAAAAAAAAAAAAAUL) | BitSelect.Extract(classes1, 0xAAAAAAAAAAAAAAAAUL) << 32) & all;
            ulong signal = ~low & ~high & all, decoy = low & ~high, vacuum = high & ~low;
            ulong zKept = kept & ~basisX, xKept = kept & basisX;
            d0 += BitOperations.PopCount(signal); d1 += BitOperations.PopCount(decoy); d2 += BitOperations.PopCount(vacuum);
            z0 += BitOperations.PopCount(zKept & signal); z1 += BitOperations.PopCount(zKept & decoy); z2 += BitOperations.PopCount(zKept & vacuum);
            x0 += BitOperations.PopCount(xKept & signal); x1 += BitOperations.PopCount(xKept & decoy); x2 += BitOperations.PopCount(xKept & vacuum);
            z.AppendSelected(bit, low, high, zKept);
            x.AppendSelected(bit, low, high, xKept);
            selected[2 * word] = zKept;
            selected[2 * word + 1] = xKept;
        }
        statistics.Add([d0, d1, d2], [z0, z1, z2], [x0, x1, x2]);
    }

    /// <summary>
    /// The index of the first of <paramref name="count"/> two-bit classes (<see cref="AliceSift"/>'s wire form) that is 3,
    /// a class that does not exist, or -1 (the unused bits after the last class are not looked at).
    /// </summary>
    public static int FirstInvalidClass(ReadOnlySpan<byte> classesPacked, int count)
    {
        for (int start = 0; start < count; start += 32)
        {
            int length = Math.Min(32, count - start);
            ulong word = length == 32
                ? BinaryPrimitives.ReadUInt64LittleEndian(classesPacked.Slice(start / 4, 8))
                : Tail(classesPacked.Slice(start / 4, (length + 3) / 4));
            ulong both = word & (word >> 1) & 0x5555555555555555UL;
            if (length < 32) both &= (1UL << (2 * length)) - 1;
            if (both != 0) return start + BitOperations.TrailingZeroCount(both) / 2;
        }
        return -1;
    }

    /// <summary>Up to 8 bytes, little-endian, the missing ones zero.</summary>
    private static ulong Tail(ReadOnlySpan<byte> bytes)
    {
        ulong value = 0;
        for (int i = 0; i < bytes.Length && i < 8; i++) value |= (ulong)bytes[i] << (8 * i);
        return value;
    }

    /// <summary>Bits 0-3 of 64 bytes, each to a mask (byte i to bit i), from two vector loads.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Masks(ref byte r, out ulong bit0, out ulong bit1, out ulong bit2, out ulong bit3)
    {
        var a = Vector256.LoadUnsafe(ref r).AsUInt16();
        var b = Vector256.LoadUnsafe(ref r, 32).AsUInt16();
        bit0 = Vector256.ExtractMostSignificantBits(Vector256.ShiftLeft(a, 7).AsByte()) | (ulong)Vector256.ExtractMostSignificantBits(Vector256.ShiftLeft(b, 7).AsByte()) << 32;
        bit1 = Vector256.ExtractMostSignificantBits(Vector256.ShiftLeft(a, 6).AsByte()) | (ulong)Vector256.ExtractMostSignificantBits(Vector256.ShiftLeft(b, 6).AsByte()) << 32;
        bit2 = Vector256.ExtractMostSignificantBits(Vector256.ShiftLeft(a, 5).AsByte()) | (ulong)Vector256.ExtractMostSignificantBits(Vector256.ShiftLeft(b, 5).AsByte()) << 32;
        bit3 = Vector256.ExtractMostSignificantBits(Vector256.ShiftLeft(a, 4).AsByte()) | (ulong)Vector256.ExtractMostSignificantBits(Vector256.ShiftLeft(b, 4).AsByte()) << 32;
    }

    /// <summary>Bit <paramref name="bit"/> of each of up to 64 bytes, byte i to bit i.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Mask(ReadOnlySpan<byte> bytes, int bit)
    {
        if (bytes.Length == 64 && Vector256.IsHardwareAccelerated)
        {
            // The chosen bit shifted to each byte's top (a 16-bit shift: the top bit of each byte comes from that byte).
            ref byte r = ref MemoryMarshal.GetReference(bytes);
            int shift = 7 - bit;
            ulong lo = Vector256.ExtractMostSignificantBits(Vector256.ShiftLeft(Vector256.LoadUnsafe(ref r).AsUInt16(), shift).AsByte());
            ulong hi = Vector256.ExtractMostSignificantBits(Vector256.ShiftLeft(Vector256.LoadUnsafe(ref r, 32).AsUInt16(), shift).AsByte());
            return lo | (hi << 32);
        }
        ulong mask = 0;
        for (int i = 0; i < bytes.Length; i++)
            mask |= (ulong)((bytes[i] >> bit) & 1) << i;
        return mask;
    }
}
