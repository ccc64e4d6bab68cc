using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Qkd.Acquisition.Replay;

/// <summary>
/// CRC-32C (Castagnoli: reflected polynomial 0x82F63B78, initial value and final XOR 0xFFFFFFFF), the checksum of
/// iSCSI, ext4 and SCTP. Chosen over the zlib CRC-32 because x86 (SSE 4.2) and ARMv8 compute it in hardware, so
/// checking every chunk of a replayed file costs next to nothing. The software fallback is a slicing-by-8 table.
/// </summary>
public static class Crc32C
{
    private const uint ReflectedPolynomial = 0x82F63B78;

    /// <summary>8 tables of 256 entries: table k gives the CRC of a byte followed by k zero bytes.</summary>
    private static readonly uint[] Table = BuildTable();

    /// <summary>The CRC-32C of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => ~Update(~0u, data);

    /// <summary>
    /// Continues a running CRC: pass 0 for the first piece, then the previous result. Append(Append(0, a), b)
    /// equals Compute(a ++ b).
    /// </summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data) => ~Update(~crc, data);

    /// <summary>The table-driven computation, bypassing the hardware instruction; exposed so tests compare the two.</summary>
    internal static uint ComputeSoftware(ReadOnlySpan<byte> data) => ~UpdateSoftware(~0u, data);

    /// <summary>Whether <see cref="Compute"/> runs on a CPU instruction on this machine.</summary>
    public static bool IsHardwareAccelerated => Sse42.X64.IsSupported || Sse42.IsSupported || Crc32.Arm64.IsSupported || Crc32.IsSupported;

    private static uint Update(uint state, ReadOnlySpan<byte> data)
    {
        if (Sse42.X64.IsSupported)
        {
            ulong wide = state;
            while (data.Length >= 8)
            {
                wide = Sse42.X64.Crc32(wide, BinaryPrimitives.ReadUInt64LittleEndian(data));
                data = data[8..];
            }
            state = (uint)wide;
            foreach (byte b in data) state = Sse42.Crc32(state, b);
            return state;
        }
        if (Sse42.IsSupported)
        {
            while (data.Length >= 4)
            {
                state = Sse42.Crc32(state, BinaryPrimitives.ReadUInt32LittleEndian(data));
                data = data[4..];
            }
            foreach (byte b in data) state = Sse42.Crc32(state, b);
            return state;
        }
        if (Crc32.Arm64.IsSupported)
        {
            while (data.Length >= 8)
            {
                state = Crc32.Arm64.ComputeCrc32C(state, BinaryPrimitives.ReadUInt64LittleEndian(data));
                data = data[8..];
            }
            foreach (byte b in data) state = Crc32.ComputeCrc32C(state, b);
            return state;
        }
        if (Crc32.IsSupported)
        {
            while (data.Length >= 4)
            {
                state = Crc32.ComputeCrc32C(state, BinaryPrimitives.ReadUInt32LittleEndian(data));
                data = data[4..];
            }
            foreach (byte b in data) state = Crc32.ComputeCrc32C(state, b);
            return state;
        }
        return UpdateSoftware(state, data);
    }

    private static uint UpdateSoftware(uint state, ReadOnlySpan<byte> data)
    {
        uint[] t = Table;
        while (data.Length >= 8)
        {
            uint low = state ^ BinaryPrimitives.ReadUInt32LittleEndian(data);
            uint high = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
            state = t[7 * 256 + (low & 0xFF)] ^ t[6 * 256 + ((low >> 8) & 0xFF)]
                  ^ t[5 * 256 + ((low >> 16) & 0xFF)] ^ t[4 * 256 + (low >> 24)]
                  ^ t[3 * 256 + (high & 0xFF)] ^ t[2 * 256 + ((high >> 8) & 0xFF)]
                  ^ t[1 * 256 + ((high >> 16) & 0xFF)] ^ t[high >> 24];
            data = data[8..];
        }
        foreach (byte b in data) state = StepByte(t, state, b);
        return state;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint StepByte(uint[] table, uint state, byte b) => table[(state ^ b) & 0xFF] ^ (state >> 8);

    private static uint[] BuildTable()
    {
        var table = new uint[8 * 256];
        for (uint i = 0; i < 256; i++)
        {
            uint crc = i;
            for (int bit = 0; bit < 8; bit++)
                crc = (crc & 1) != 0 ? (crc >> 1) ^ ReflectedPolynomial : crc >> 1;
            table[i] = crc;
        }
        for (int k = 1; k < 8; k++)
            for (int i = 0; i < 256; i++)
            {
                uint previous = table[(k - 1) * 256 + i];
                table[k * 256 + i] = table[previous & 0xFF] ^ (previous >> 8);
            }
        return table;
    }
}
