using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Qkd.Distillation.Protocol;

/// <summary>
/// The packed-values wire format (<see cref="ProtocolWriter.WritePacked"/>): value i's bit b at stream bit
/// i * bitsPerValue + b, bytes filled from their least significant bit, the last byte's unused bits zero. Sift messages
/// carry one such list per detection batch (bases and kept flags one bit each, intensity classes two), so the one- and
/// two-bit cases run 32 or 8 values a step: a vector compare and move-mask for one bit, BMI2's bit extract / deposit
/// (eight two-bit values per 16-bit chunk) for two; other widths, and CPUs without BMI2, go value by value.
/// </summary>
internal static class ValuePacking
{
    /// <summary>Packs <paramref name="values"/> (each below 2^bitsPerValue) into the first ceil(n b / 8) bytes of <paramref name="destination"/>.</summary>
    public static void Pack(ReadOnlySpan<byte> values, int bitsPerValue, Span<byte> destination)
    {
        int byteCount = (int)(((long)values.Length * bitsPerValue + 7) / 8);
        destination = destination[..byteCount];
        if (bitsPerValue == 1) PackOnes(values, destination);
        else if (bitsPerValue == 2 && Bmi2.X64.IsSupported) PackTwos(values, destination);
        else PackScalar(values, bitsPerValue, destination);
    }

    /// <summary>Unpacks <paramref name="destination"/>.Length values from <paramref name="source"/> (at least ceil(n b / 8) bytes).</summary>
    public static void Unpack(ReadOnlySpan<byte> source, int bitsPerValue, Span<byte> destination)
    {
        if (bitsPerValue == 1 && Bmi2.X64.IsSupported) UnpackWide(source, destination, 1, 0x0101010101010101UL);
        else if (bitsPerValue == 2 && Bmi2.X64.IsSupported) UnpackWide(source, destination, 2, 0x0303030303030303UL);
        else UnpackScalar(source, bitsPerValue, destination);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackOnes(ReadOnlySpan<byte> values, Span<byte> destination)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref byte src = ref MemoryMarshal.GetReference(values);
            for (; i + 32 <= values.Length; i += 32)
            {
                // A value of 1 moved to each byte's top bit: the move-mask is the 32 values' bits in order.
                var v = Vector256.LoadUnsafe(ref src, (nuint)i);
                uint bits = Vector256.ExtractMostSignificantBits(Vector256.ShiftLeft(v.AsUInt16(), 7).AsByte());
                BinaryPrimitives.WriteUInt32LittleEndian(destination.Slice(i >> 3, 4), bits);
            }
        }
        PackScalar(values[i..], 1, destination[(i >> 3)..]);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackTwos(ReadOnlySpan<byte> values, Span<byte> destination)
    {
        int i = 0;
        ref byte src = ref MemoryMarshal.GetReference(values);
        for (; i + 8 <= values.Length; i += 8)
        {
            ulong eight = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref src, i));
            if (!BitConverter.IsLittleEndian) eight = BinaryPrimitives.ReverseEndianness(eight);
            ushort bits = (ushort)Bmi2.X64.ParallelBitExtract(eight, 0x0303030303030303UL);
            BinaryPrimitives.WriteUInt16LittleEndian(destination.Slice(i >> 2, 2), bits);
        }
        PackScalar(values[i..], 2, destination[(i >> 2)..]);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void UnpackWide(ReadOnlySpan<byte> source, Span<byte> destination, int bitsPerValue, ulong mask)
    {
        // 8 values = 8 b bits a step; the source holds ceil(n b / 8) bytes, so whole steps read whole bytes.
        int i = 0;
        ref byte dst = ref MemoryMarshal.GetReference(destination);
        for (; i + 8 <= destination.Length; i += 8)
        {
            ulong chunk = bitsPerValue == 1 ? source[i >> 3] : BinaryPrimitives.ReadUInt16LittleEndian(source.Slice(i >> 2, 2));
            ulong eight = Bmi2.X64.ParallelBitDeposit(chunk, mask);
            if (!BitConverter.IsLittleEndian) eight = BinaryPrimitives.ReverseEndianness(eight);
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref dst, i), eight);
        }
        UnpackScalar(source[((i * bitsPerValue) >> 3)..], bitsPerValue, destination[i..]);
    }

    /// <summary>Value by value (the format's definition): the fallback, and the tails of the fast paths.</summary>
    internal static void PackScalar(ReadOnlySpan<byte> values, int bitsPerValue, Span<byte> destination)
    {
        int byteCount = (values.Length * bitsPerValue + 7) / 8;
        destination[..byteCount].Clear();
        long bit = 0;
        foreach (byte v in values)
        {
            for (int b = 0; b < bitsPerValue; b++, bit++)
                if (((v >> b) & 1) != 0) destination[(int)(bit >> 3)] |= (byte)(1 << (int)(bit & 7));
        }
    }

    internal static void UnpackScalar(ReadOnlySpan<byte> source, int bitsPerValue, Span<byte> destination)
    {
        long bit = 0;
        for (int i = 0; i < destination.Length; i++)
        {
            int v = 0;
            for (int b = 0; b < bitsPerValue; b++, bit++)
                v |= ((source[(int)(bit >> 3)] >> (int)(bit & 7)) & 1) << b;
            destination[i] = (byte)v;
        }
    }
}
