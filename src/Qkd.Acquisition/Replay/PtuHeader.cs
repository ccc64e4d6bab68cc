using System.Buffers.Binary;
using System.Text;

namespace Qkd.Acquisition.Replay;

/// <summary>
/// The tag header of a PicoQuant PTU file: the magic "PQTTTR\0\0", an 8-byte version string, then tag entries of
/// (32-byte NUL-padded ASCII identifier, int32 index (-1 = not an array element), uint32 type, 8-byte value) ending
/// with "Header_End". Variable-length types (strings, float arrays, blobs) store their byte length in the value and
/// their data right after the entry. The TTTR records follow the header immediately.
/// </summary>
public sealed class PtuHeader
{
    /// <summary>The first 8 bytes of every PTU file.</summary>
    public static ReadOnlySpan<byte> Magic => "PQTTTR\0\0"u8;

    private const int EntryBytes = 32 + 4 + 4 + 8;
    private const int MaxEntries = 1 << 16;
    private const int MaxVariableBytes = 64 << 20;

    // Tag types (the PTU tag-type codes).
    private const uint TypeEmpty8 = 0xFFFF0008;
    private const uint TypeBool8 = 0x00000008;
    private const uint TypeInt8 = 0x10000008;
    private const uint TypeBitSet64 = 0x11000008;
    private const uint TypeColor8 = 0x12000008;
    private const uint TypeFloat8 = 0x20000008;
    private const uint TypeDateTime = 0x21000008;
    private const uint TypeFloat8Array = 0x2001FFFF;
    private const uint TypeAnsiString = 0x4001FFFF;
    private const uint TypeWideString = 0x4002FFFF;
    private const uint TypeBinaryBlob = 0xFFFFFFFF;

    private PtuHeader(string version, IReadOnlyDictionary<string, object> entries, uint recordType, PtuRecordFormat format,
        string device, double globalResolutionSeconds, double? resolutionSeconds, long? numberOfRecords, long dataOffset)
    {
        Version = version;
        Entries = entries;
        RecordType = recordType;
        Format = format;
        Device = device;
        GlobalResolutionSeconds = globalResolutionSeconds;
        ResolutionSeconds = resolutionSeconds;
        NumberOfRecords = numberOfRecords;
        DataOffset = dataOffset;
    }

    /// <summary>The file's format version string, e.g. "1.0.00".</summary>
    public string Version { get; }

    /// <summary>
    /// Every header entry by identifier ("TTResult_SyncRate"; array elements as "Ident[index]"): long for integer,
    /// boolean, bit-set and colour types, double for floats, DateTime for dates, string for text, double[] for float
    /// arrays, byte[] for blobs, null-free.
    /// </summary>
    public IReadOnlyDictionary<string, object> Entries { get; }

    /// <summary>TTResultFormat_TTTRRecType as stored.</summary>
    public uint RecordType { get; }

    public PtuRecordFormat Format { get; }

    /// <summary>The instrument the record type names ("HydraHarp", "MultiHarp", ...).</summary>
    public string Device { get; }

    public bool IsT3 => Format is PtuRecordFormat.PicoHarpT3 or PtuRecordFormat.HydraHarpV1T3 or PtuRecordFormat.GenericT3;

    /// <summary>MeasDesc_GlobalResolution: the T2 time-tag unit, or the T3 sync period, in seconds.</summary>
    public double GlobalResolutionSeconds { get; }

    /// <summary>MeasDesc_Resolution: the T3 dtime bin width in seconds (absent or unused in T2).</summary>
    public double? ResolutionSeconds { get; }

    /// <summary>
    /// TTResult_SyncRate, the rate on the sync input in counts per second, when the file states a positive one. Measured
    /// at the input, before any sync divider: for pulsed light, the laser's repetition rate.
    /// </summary>
    public long? SyncRateHz => Entries.TryGetValue("TTResult_SyncRate", out object? value) && value is long rate && rate > 0 ? rate : null;

    /// <summary>TTResult_NumberOfRecords, if the file states it.</summary>
    public long? NumberOfRecords { get; }

    /// <summary>Byte offset of the first TTTR record.</summary>
    public long DataOffset { get; }

    /// <summary>Reads the header from the start of <paramref name="stream"/>, leaving it at the first record.</summary>
    /// <exception cref="TimeTagFileFormatException">Wrong magic, truncated or garbled header, unsupported record type,
    /// missing resolution.</exception>
    public static PtuHeader Read(Stream stream, string file)
    {
        long offset = 0;
        Span<byte> entry = stackalloc byte[EntryBytes];
        ReadExactly(stream, entry[..16], ref offset, file, "the PTU preamble");
        if (!entry[..8].SequenceEqual(Magic))
            throw new TimeTagFileFormatException(file, 0, $"not a PicoQuant PTU file: magic is {Convert.ToHexString(entry[..8])} (\"PQTTTR\" expected).");
        string version = Encoding.ASCII.GetString(entry[8..16]).TrimEnd('\0', ' ');

        var entries = new Dictionary<string, object>(StringComparer.Ordinal);
        for (int n = 0; ; n++)
        {
            if (n == MaxEntries)
                throw new TimeTagFileFormatException(file, offset, $"no Header_End after {MaxEntries} tag entries: the header is garbled.");
            long entryOffset = offset;
            ReadExactly(stream, entry, ref offset, file, $"tag entry {n}");
            var identBytes = entry[..32];
            int nul = identBytes.IndexOf((byte)0);
            identBytes = nul >= 0 ? identBytes[..nul] : identBytes;
            foreach (byte b in identBytes)
                if (b < 0x20 || b > 0x7E)
                    throw new TimeTagFileFormatException(file, entryOffset, $"tag entry {n} has a non-ASCII identifier: the header is garbled.");
            string ident = Encoding.ASCII.GetString(identBytes);
            int index = BinaryPrimitives.ReadInt32LittleEndian(entry[32..]);
            uint type = BinaryPrimitives.ReadUInt32LittleEndian(entry[36..]);
            var raw = entry[40..48];
            long value = BinaryPrimitives.ReadInt64LittleEndian(raw);
            if (ident == "Header_End") break;
            string key = index >= 0 ? $"{ident}[{index}]" : ident;
            object parsed = type switch
            {
                TypeEmpty8 => 0L,
                TypeBool8 or TypeInt8 or TypeBitSet64 or TypeColor8 => value,
                TypeFloat8 => BinaryPrimitives.ReadDoubleLittleEndian(raw),
                // Delphi TDateTime: days since 1899-12-30.
                TypeDateTime => FromDelphiDate(BinaryPrimitives.ReadDoubleLittleEndian(raw)),
                TypeFloat8Array or TypeAnsiString or TypeWideString or TypeBinaryBlob =>
                    ReadVariable(stream, type, value, ref offset, file, ident, entryOffset),
                _ => throw new TimeTagFileFormatException(file, entryOffset + 36, $"tag \"{ident}\" has unknown type 0x{type:X8}: the header is garbled."),
            };
            entries[key] = parsed;
        }

        if (!entries.TryGetValue("TTResultFormat_TTTRRecType", out object? recordTypeValue) || recordTypeValue is not long recordTypeLong)
            throw new TimeTagFileFormatException(file, offset, "the header has no TTResultFormat_TTTRRecType (integer) entry.");
        uint recordType = (uint)recordTypeLong;
        (PtuRecordFormat format, string device) = Classify(recordType, file, offset);

        double globalResolution = PositiveDouble(entries, "MeasDesc_GlobalResolution", file, offset)
            ?? throw new TimeTagFileFormatException(file, offset, "the header has no MeasDesc_GlobalResolution entry.");
        double? resolution = PositiveDouble(entries, "MeasDesc_Resolution", file, offset);
        bool t3 = format is PtuRecordFormat.PicoHarpT3 or PtuRecordFormat.HydraHarpV1T3 or PtuRecordFormat.GenericT3;
        if (t3 && resolution is null)
            throw new TimeTagFileFormatException(file, offset, "a T3 file needs MeasDesc_Resolution (the dtime bin width); the header has none.");
        long? records = null;
        if (entries.TryGetValue("TTResult_NumberOfRecords", out object? countValue))
        {
            if (countValue is not long count || count < 0)
                throw new TimeTagFileFormatException(file, offset, $"TTResult_NumberOfRecords is {countValue}, not a count.");
            records = count;
        }
        return new PtuHeader(version, entries, recordType, format, device, globalResolution, resolution, records, offset);
    }

    private static (PtuRecordFormat, string) Classify(uint recordType, string file, long offset)
    {
        uint hardware = recordType & 0xFF, mode = (recordType >> 8) & 0xFF, family = (recordType >> 16) & 0xFF, version = recordType >> 24;
        bool t2 = mode == 2, t3 = mode == 3;
        if (family == 1 && (t2 || t3))
        {
            switch (hardware)
            {
                case 3 when version == 0: return (t2 ? PtuRecordFormat.PicoHarpT2 : PtuRecordFormat.PicoHarpT3, "PicoHarp 300");
                case 4 when version == 0: return (t2 ? PtuRecordFormat.HydraHarpV1T2 : PtuRecordFormat.HydraHarpV1T3, "HydraHarp (v1)");
                case 4 when version == 1: return (t2 ? PtuRecordFormat.GenericT2 : PtuRecordFormat.GenericT3, "HydraHarp (v2)");
                // PicoQuant lists the TimeHarp 260 types both with and without the version byte set; the layout is the same.
                case 5 when version <= 1: return (t2 ? PtuRecordFormat.GenericT2 : PtuRecordFormat.GenericT3, "TimeHarp 260 N");
                case 6 when version <= 1: return (t2 ? PtuRecordFormat.GenericT2 : PtuRecordFormat.GenericT3, "TimeHarp 260 P");
                case 7 when version <= 1: return (t2 ? PtuRecordFormat.GenericT2 : PtuRecordFormat.GenericT3, "MultiHarp");
            }
        }
        throw new TimeTagFileFormatException(file, offset,
            $"TTTR record type 0x{recordType:X8} is not supported (PicoHarp 300, HydraHarp v1/v2, TimeHarp 260 and MultiHarp T2/T3 are).");
    }

    private static double? PositiveDouble(Dictionary<string, object> entries, string key, string file, long offset)
    {
        if (!entries.TryGetValue(key, out object? value)) return null;
        if (value is double d && double.IsFinite(d) && d > 0) return d;
        throw new TimeTagFileFormatException(file, offset, $"{key} is {value}, not a positive number of seconds.");
    }

    private static object ReadVariable(Stream stream, uint type, long length, ref long offset, string file, string ident, long entryOffset)
    {
        if (length < 0 || length > MaxVariableBytes)
            throw new TimeTagFileFormatException(file, entryOffset + 40, $"tag \"{ident}\" claims {length} bytes of data: the header is garbled.");
        var data = new byte[length];
        ReadExactly(stream, data, ref offset, file, $"the data of tag \"{ident}\"");
        switch (type)
        {
            case TypeAnsiString:
            {
                int nul = Array.IndexOf(data, (byte)0);
                return Encoding.Latin1.GetString(data, 0, nul >= 0 ? nul : data.Length);
            }
            case TypeWideString:
                return Encoding.Unicode.GetString(data, 0, data.Length & ~1).TrimEnd('\0');
            case TypeFloat8Array:
            {
                var values = new double[data.Length / 8];
                for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadDoubleLittleEndian(data.AsSpan(8 * i));
                return values;
            }
            default:
                return data;
        }
    }

    private static DateTime FromDelphiDate(double days) =>
        double.IsFinite(days) && Math.Abs(days) < 2_000_000
            ? new DateTime(1899, 12, 30, 0, 0, 0, DateTimeKind.Utc).AddDays(days)
            : DateTime.MinValue;

    private static void ReadExactly(Stream stream, Span<byte> destination, ref long offset, string file, string what)
    {
        int got = stream.ReadAtLeast(destination, destination.Length, throwOnEndOfStream: false);
        if (got < destination.Length)
            throw new TimeTagFileFormatException(file, offset + got, $"the file ends inside {what}: the PTU header is truncated.");
        offset += got;
    }
}
