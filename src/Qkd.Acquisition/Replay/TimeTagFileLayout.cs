namespace Qkd.Acquisition.Replay;

/// <summary>
/// The constants of the time-tag file format (firmware-protocols/time-tag-file.md). Everything is little-endian.
/// </summary>
internal static class TimeTagFileLayout
{
    /// <summary>"\x89QTT\r\n\x1A\n": the high byte catches 7-bit transfers, CR LF and LF catch newline conversion,
    /// 0x1A stops a DOS "type", as in PNG.</summary>
    public static ReadOnlySpan<byte> FileMagic => [0x89, 0x51, 0x54, 0x54, 0x0D, 0x0A, 0x1A, 0x0A];

    public const ushort MajorVersion = 1;
    public const ushort MinorVersion = 0;

    /// <summary>Magic, versions, header length, resolution, creation time, channel count.</summary>
    public const int HeaderFixedBytes = 8 + 2 + 2 + 4 + 4 + 8 + 2;

    /// <summary>Upper bound on a header; anything larger is a damaged length field, not a real header.</summary>
    public const int MaxHeaderBytes = 16 << 20;

    /// <summary>"TTCK" read as a little-endian uint32.</summary>
    public const uint ChunkMagic = 0x4B435454;

    /// <summary>"TTND" read as a little-endian uint32.</summary>
    public const uint TrailerMagic = 0x444E5454;

    /// <summary>Magic, record count, payload length, base tick, header CRC.</summary>
    public const int ChunkHeaderBytes = 4 + 4 + 4 + 8 + 4;

    public const int ChunkCrcBytes = 4;

    /// <summary>Magic, total tags, chunk count, CRC.</summary>
    public const int TrailerBytes = 4 + 8 + 4 + 4;

    /// <summary>Most records one chunk may hold: bounds the reader's buffers and the data lost to one bad chunk.</summary>
    public const int MaxRecordsPerChunk = 1 << 20;

    /// <summary>Lead byte, channel varint (3), delta varint (10), missed-events varint (5).</summary>
    public const int MaxRecordBytes = 1 + 3 + 10 + 5;

    public const int MinRecordBytes = 2;

    /// <summary>Lead-byte channel code meaning "the channel follows as a varint".</summary>
    public const int EscapedChannel = 31;

    public const int MissedEventsFlag = 1 << 2;

    public const int KindMask = 0b11;
}
