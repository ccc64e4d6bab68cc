using System.Buffers.Binary;
using Qkd.Core.TimeTags;

namespace Qkd.Protocol.Messages;

/// <summary>
/// TagData stream payload: 16-byte records, little-endian: i64 time (ps, tagger clock), u16 input channel, u8 kind
/// (0 rising, 1 falling, 2 overflow begin, 3 overflow end), u8 reserved (0), u32 missed events (overflow end only). The
/// layout is that of <see cref="TimeTag"/>, as on Swabian-style taggers, so a host decodes a record in a few moves.
/// </summary>
public static class TagRecordCodec
{
    public const int RecordLength = 16;

    /// <summary>Records in the largest TagData frame (4095).</summary>
    public const int MaxRecordsPerFrame = ProtocolConstants.MaxPayloadLength / RecordLength;

    /// <summary>Writes <paramref name="tags"/> as records; returns the bytes written.</summary>
    public static int Write(ReadOnlySpan<TimeTag> tags, Span<byte> destination)
    {
        int length = tags.Length * RecordLength;
        if (destination.Length < length)
            throw new ArgumentException($"The destination holds {destination.Length} bytes; {tags.Length} records need {length}.", nameof(destination));
        for (int i = 0; i < tags.Length; i++)
        {
            ref readonly TimeTag tag = ref tags[i];
            Span<byte> record = destination.Slice(i * RecordLength, RecordLength);
            BinaryPrimitives.WriteInt64LittleEndian(record, tag.TimePs);
            BinaryPrimitives.WriteUInt16LittleEndian(record[8..], tag.Channel);
            record[10] = (byte)tag.Kind;
            record[11] = 0;
            BinaryPrimitives.WriteUInt32LittleEndian(record[12..], tag.MissedEvents);
        }
        return length;
    }

    /// <summary>
    /// Decodes a TagData payload into <paramref name="destination"/>; returns the number of tags, or -1 when the payload
    /// is not whole records or a record is invalid (unknown kind, reserved byte set) — then <paramref name="error"/> says
    /// which, and nothing of the frame should be used.
    /// </summary>
    public static int Read(ReadOnlySpan<byte> payload, Span<TimeTag> destination, out string? error)
    {
        error = null;
        if (payload.Length % RecordLength != 0)
        {
            error = $"TagData: {payload.Length} bytes is not a whole number of {RecordLength}-byte records";
            return -1;
        }
        int count = payload.Length / RecordLength;
        if (destination.Length < count)
            throw new ArgumentException($"The destination holds {destination.Length} tags; the frame has {count}.", nameof(destination));
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<byte> record = payload.Slice(i * RecordLength, RecordLength);
            byte kind = record[10];
            if (kind > (byte)TimeTagKind.OverflowEnd || record[11] != 0)
            {
                error = $"TagData record {i}: kind {kind} / reserved {record[11]} is invalid";
                return -1;
            }
            destination[i] = new TimeTag(BinaryPrimitives.ReadInt64LittleEndian(record), BinaryPrimitives.ReadUInt16LittleEndian(record[8..]),
                (TimeTagKind)kind, BinaryPrimitives.ReadUInt32LittleEndian(record[12..]));
        }
        return count;
    }
}
