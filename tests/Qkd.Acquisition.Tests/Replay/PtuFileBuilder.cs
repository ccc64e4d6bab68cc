using System.Buffers.Binary;
using System.Text;

namespace Qkd.Acquisition.Tests.Replay;

/// <summary>
/// Builds PicoQuant PTU files in memory from the documented layout: "PQTTTR\0\0", an 8-byte version, 48-byte tag
/// entries (32-byte identifier, int32 index, uint32 type, 8-byte value; variable-length data after the entry),
/// "Header_End", then 32-bit little-endian records.
/// </summary>
internal sealed class PtuFileBuilder
{
    private readonly MemoryStream _stream = new();

    public PtuFileBuilder(uint recordType, double globalResolution, double? resolution = null, long? numberOfRecords = null,
        long? syncRateHz = null)
    {
        _stream.Write("PQTTTR\0\0"u8);
        _stream.Write("1.0.00\0\0"u8);
        String("File_GUID", "{6B1F3A50-0000-4000-8000-000000000000}");
        Entry("File_CreatingTime", -1, 0x21000008, BitConverter.DoubleToInt64Bits(45000.5));
        Entry("TTResultFormat_TTTRRecType", -1, 0x10000008, recordType);
        Entry("MeasDesc_GlobalResolution", -1, 0x20000008, BitConverter.DoubleToInt64Bits(globalResolution));
        if (resolution is double r) Entry("MeasDesc_Resolution", -1, 0x20000008, BitConverter.DoubleToInt64Bits(r));
        Entry("HW_InpChan_Enabled", 0, 0x00000008, 1);
        Entry("HW_InpChan_Enabled", 1, 0x00000008, 1);
        if (numberOfRecords is long n) Entry("TTResult_NumberOfRecords", -1, 0x10000008, n);
        if (syncRateHz is long rate) Entry("TTResult_SyncRate", -1, 0x10000008, rate);
        Entry("Header_End", -1, 0xFFFF0008, 0);
    }

    public PtuFileBuilder Records(params uint[] records)
    {
        Span<byte> bytes = stackalloc byte[4];
        foreach (uint record in records)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes, record);
            _stream.Write(bytes);
        }
        return this;
    }

    public PtuFileBuilder RawBytes(params byte[] bytes)
    {
        _stream.Write(bytes);
        return this;
    }

    public byte[] ToArray() => _stream.ToArray();

    private void String(string ident, string value)
    {
        byte[] data = Encoding.ASCII.GetBytes(value + "\0\0\0\0\0\0\0\0"[..(8 - value.Length % 8)]);
        Entry(ident, -1, 0x4001FFFF, data.Length);
        _stream.Write(data);
    }

    private void Entry(string ident, int index, uint type, long value)
    {
        Span<byte> entry = stackalloc byte[48];
        entry.Clear();
        Encoding.ASCII.GetBytes(ident, entry[..32]);
        BinaryPrimitives.WriteInt32LittleEndian(entry[32..], index);
        BinaryPrimitives.WriteUInt32LittleEndian(entry[36..], type);
        BinaryPrimitives.WriteInt64LittleEndian(entry[40..], value);
        _stream.Write(entry);
    }

    // Record constructors for the documented bit layouts.
    public static uint PicoHarpT2(uint channel, uint time) => channel << 28 | time;
    public static uint PicoHarpT3(uint channel, uint dtime, uint nsync) => channel << 28 | dtime << 16 | nsync;
    public static uint HydraT2(bool special, uint channel, uint time) => (special ? 1u << 31 : 0) | channel << 25 | time;
    public static uint HydraT3(bool special, uint channel, uint dtime, uint nsync) => (special ? 1u << 31 : 0) | channel << 25 | dtime << 10 | nsync;
}
