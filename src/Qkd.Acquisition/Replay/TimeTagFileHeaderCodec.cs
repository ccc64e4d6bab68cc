using System.Buffers.Binary;
using System.Text;

namespace Qkd.Acquisition.Replay;

/// <summary>Writes and parses the file header (firmware-protocols/time-tag-file.md, "Header").</summary>
internal static class TimeTagFileHeaderCodec
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static byte[] Serialize(TimeTagFileHeader header)
    {
        var body = new MemoryStream();
        var scratch = new byte[8];
        void U16(int v) { BinaryPrimitives.WriteUInt16LittleEndian(scratch, checked((ushort)v)); body.Write(scratch, 0, 2); }
        void U32(uint v) { BinaryPrimitives.WriteUInt32LittleEndian(scratch, v); body.Write(scratch, 0, 4); }
        void I64(long v) { BinaryPrimitives.WriteInt64LittleEndian(scratch, v); body.Write(scratch, 0, 8); }
        void Text16(string s, string what)
        {
            byte[] bytes = StrictUtf8.GetBytes(s);
            if (bytes.Length > ushort.MaxValue) throw new ArgumentException($"{what} is {bytes.Length} UTF-8 bytes; at most {ushort.MaxValue} fit.", nameof(header));
            U16(bytes.Length);
            body.Write(bytes);
        }

        body.Write(TimeTagFileLayout.FileMagic);
        U16(TimeTagFileLayout.MajorVersion);
        U16(TimeTagFileLayout.MinorVersion);
        U32(0); // header length, patched below
        U32(header.ResolutionPs);
        I64((header.CreatedUtc.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMicrosecond);
        U16(header.Channels.Count);
        foreach (var channel in header.Channels)
        {
            U16(channel.Channel);
            body.WriteByte((byte)channel.Role);
            body.WriteByte(channel.DelayPs.HasValue ? (byte)1 : (byte)0);
            I64(channel.DelayPs ?? 0);
            Text16(channel.Name ?? "", $"The name of channel {channel.Channel}");
        }
        U16(header.Metadata.Count);
        foreach (var (key, value) in header.Metadata)
        {
            Text16(key ?? "", "A metadata key");
            byte[] valueBytes = StrictUtf8.GetBytes(value ?? "");
            U32((uint)valueBytes.Length);
            body.Write(valueBytes);
        }
        int length = checked((int)body.Length + 4);
        if (length > TimeTagFileLayout.MaxHeaderBytes)
            throw new ArgumentException($"The header would be {length} bytes; at most {TimeTagFileLayout.MaxHeaderBytes} are allowed.", nameof(header));
        U32(0); // CRC placeholder
        byte[] bytesOut = body.ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(bytesOut.AsSpan(12), (uint)length);
        BinaryPrimitives.WriteUInt32LittleEndian(bytesOut.AsSpan(length - 4), Crc32C.Compute(bytesOut.AsSpan(0, length - 4)));
        return bytesOut;
    }

    /// <summary>
    /// Reads the first 16 bytes (magic, version, header length) and returns the total header length; throws a
    /// <see cref="TimeTagFileFormatException"/> naming the problem otherwise.
    /// </summary>
    public static int ReadHeaderLength(ReadOnlySpan<byte> prefix, string file)
    {
        if (prefix.Length < 16)
            throw new TimeTagFileFormatException(file, prefix.Length, $"the file ends inside the header ({prefix.Length} bytes; at least {TimeTagFileLayout.HeaderFixedBytes + 4} needed).");
        if (!prefix[..8].SequenceEqual(TimeTagFileLayout.FileMagic))
            throw new TimeTagFileFormatException(file, 0, $"not a QKD time-tag file: magic is {Convert.ToHexString(prefix[..8])}, expected {Convert.ToHexString(TimeTagFileLayout.FileMagic)}.");
        ushort major = BinaryPrimitives.ReadUInt16LittleEndian(prefix[8..]);
        if (major != TimeTagFileLayout.MajorVersion)
            throw new TimeTagFileFormatException(file, 8, $"format major version {major} is not supported (this reader knows version {TimeTagFileLayout.MajorVersion}).");
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(prefix[12..]);
        if (length < TimeTagFileLayout.HeaderFixedBytes + 2 + 4 || length > TimeTagFileLayout.MaxHeaderBytes)
            throw new TimeTagFileFormatException(file, 12, $"header length {length} is outside [{TimeTagFileLayout.HeaderFixedBytes + 6}, {TimeTagFileLayout.MaxHeaderBytes}].");
        return (int)length;
    }

    /// <summary>Parses a complete header whose length <see cref="ReadHeaderLength"/> returned.</summary>
    public static TimeTagFileHeader Parse(ReadOnlySpan<byte> bytes, string file)
    {
        int length = bytes.Length;
        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(bytes[(length - 4)..]);
        uint actual = Crc32C.Compute(bytes[..(length - 4)]);
        if (stored != actual)
            throw new TimeTagFileFormatException(file, length - 4, $"header CRC-32C mismatch (stored {stored:X8}, computed {actual:X8}): the header is damaged.");

        int position = 16;
        var body = bytes[..(length - 4)];
        uint resolution = U32(body, ref position, file, "tag resolution");
        if (resolution == 0)
            throw new TimeTagFileFormatException(file, 16, "tag resolution is 0 ps.");
        long createdMicros = I64(body, ref position, file, "creation time");
        DateTimeOffset created;
        try { created = DateTimeOffset.UnixEpoch.AddTicks(checked(createdMicros * TimeSpan.TicksPerMicrosecond)); }
        catch (Exception e) when (e is OverflowException or ArgumentOutOfRangeException)
        { throw new TimeTagFileFormatException(file, 20, $"creation time {createdMicros} µs since 1970 is out of range."); }

        int channelCount = U16(body, ref position, file, "channel count");
        var channels = new TimeTagChannelDescription[channelCount];
        for (int i = 0; i < channelCount; i++)
        {
            int entryOffset = position;
            ushort number = U16(body, ref position, file, $"channel entry {i}");
            byte role = U8(body, ref position, file, $"channel entry {i}");
            byte flags = U8(body, ref position, file, $"channel entry {i}");
            long delay = I64(body, ref position, file, $"channel entry {i}");
            string name = Text(body, ref position, U16(body, ref position, file, $"channel entry {i} name length"), file, $"channel entry {i} name");
            if (role > (byte)TimeTagChannelRole.Sync)
                throw new TimeTagFileFormatException(file, entryOffset + 2, $"channel entry {i} has unknown role {role}.");
            if ((flags & ~1) != 0)
                throw new TimeTagFileFormatException(file, entryOffset + 3, $"channel entry {i} has unknown flags 0x{flags:X2}.");
            channels[i] = new TimeTagChannelDescription(number, name, (TimeTagChannelRole)role, (flags & 1) != 0 ? delay : null);
        }

        int metadataCount = U16(body, ref position, file, "metadata count");
        var metadata = new KeyValuePair<string, string>[metadataCount];
        for (int i = 0; i < metadataCount; i++)
        {
            string key = Text(body, ref position, U16(body, ref position, file, $"metadata entry {i} key length"), file, $"metadata entry {i} key");
            uint valueLength = U32(body, ref position, file, $"metadata entry {i} value length");
            string value = Text(body, ref position, valueLength, file, $"metadata entry {i} value");
            metadata[i] = new(key, value);
        }
        // Bytes between here and the CRC belong to later minor versions; a 1.x reader skips them.
        try { return new TimeTagFileHeader(resolution, channels, created, metadata); }
        catch (ArgumentException e) { throw new TimeTagFileFormatException(file, 28, e.Message); }
    }

    private static void Need(ReadOnlySpan<byte> body, int position, long count, string file, string what)
    {
        if (body.Length - position < count)
            throw new TimeTagFileFormatException(file, position, $"{what} runs past the end of the header ({body.Length + 4} bytes).");
    }

    private static byte U8(ReadOnlySpan<byte> b, ref int p, string f, string what) { Need(b, p, 1, f, what); return b[p++]; }
    private static ushort U16(ReadOnlySpan<byte> b, ref int p, string f, string what) { Need(b, p, 2, f, what); var v = BinaryPrimitives.ReadUInt16LittleEndian(b[p..]); p += 2; return v; }
    private static uint U32(ReadOnlySpan<byte> b, ref int p, string f, string what) { Need(b, p, 4, f, what); var v = BinaryPrimitives.ReadUInt32LittleEndian(b[p..]); p += 4; return v; }
    private static long I64(ReadOnlySpan<byte> b, ref int p, string f, string what) { Need(b, p, 8, f, what); var v = BinaryPrimitives.ReadInt64LittleEndian(b[p..]); p += 8; return v; }

    private static string Text(ReadOnlySpan<byte> b, ref int p, uint count, string f, string what)
    {
        Need(b, p, count, f, what);
        try
        {
            string s = StrictUtf8.GetString(b.Slice(p, (int)count));
            p += (int)count;
            return s;
        }
        catch (DecoderFallbackException) { throw new TimeTagFileFormatException(f, p, $"{what} is not valid UTF-8."); }
    }
}
