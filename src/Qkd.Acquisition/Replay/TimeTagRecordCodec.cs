using System.Runtime.CompilerServices;
using Qkd.Core.TimeTags;

namespace Qkd.Acquisition.Replay;

/// <summary>
/// Encodes and decodes the compact records of a chunk payload. A record is a lead byte (kind in bits 0-1, a
/// missed-events flag in bit 2, the channel in bits 3-7 or 31 for "channel follows"), the channel as a LEB128 varint
/// if escaped, the zigzag-encoded tick delta from the previous record as a varint, and the missed-event count as a
/// varint if flagged. Deltas are taken with wrapping 64-bit arithmetic, so any sequence of timestamps (out of order,
/// or spanning the whole long range) round-trips exactly; typical detector streams need 3-4 bytes per tag.
/// </summary>
internal static class TimeTagRecordCodec
{
    /// <summary>Appends one record at <paramref name="position"/> and returns the new position; the buffer must have
    /// <see cref="TimeTagFileLayout.MaxRecordBytes"/> free.</summary>
    public static int Encode(Span<byte> buffer, int position, in TimeTag tag, long ticks, long previousTicks)
    {
        int channel = tag.Channel;
        int lead = (int)tag.Kind & TimeTagFileLayout.KindMask;
        if (tag.MissedEvents != 0) lead |= TimeTagFileLayout.MissedEventsFlag;
        bool escaped = channel >= TimeTagFileLayout.EscapedChannel;
        lead |= (escaped ? TimeTagFileLayout.EscapedChannel : channel) << 3;
        buffer[position++] = (byte)lead;
        if (escaped) position = WriteVarint(buffer, position, (ulong)channel);
        long delta = unchecked(ticks - previousTicks);
        position = WriteVarint(buffer, position, (ulong)((delta << 1) ^ (delta >> 63)));
        if (tag.MissedEvents != 0) position = WriteVarint(buffer, position, tag.MissedEvents);
        return position;
    }

    /// <summary>
    /// Decodes exactly <paramref name="destination"/>.Length records that must use up exactly the whole payload.
    /// Returns false (never throws) on any malformation so the reader can count the chunk as corrupt.
    /// </summary>
    public static bool DecodeChunk(ReadOnlySpan<byte> payload, long baseTicks, uint resolutionPs, Span<TimeTag> destination)
    {
        int position = 0;
        long ticks = baseTicks;
        for (int i = 0; i < destination.Length; i++)
        {
            if (position >= payload.Length) return false;
            int lead = payload[position++];
            int channel = lead >> 3;
            if (channel == TimeTagFileLayout.EscapedChannel)
            {
                if (!TryReadVarint(payload, ref position, out ulong wide) || wide > ushort.MaxValue) return false;
                channel = (int)wide;
            }
            if (!TryReadVarint(payload, ref position, out ulong zigzag)) return false;
            long delta = (long)(zigzag >> 1) ^ -(long)(zigzag & 1);
            ticks = unchecked(ticks + delta);
            uint missed = 0;
            if ((lead & TimeTagFileLayout.MissedEventsFlag) != 0)
            {
                if (!TryReadVarint(payload, ref position, out ulong m) || m > uint.MaxValue) return false;
                missed = (uint)m;
            }
            destination[i] = new TimeTag(unchecked(ticks * resolutionPs), (ushort)channel, (TimeTagKind)(lead & TimeTagFileLayout.KindMask), missed);
        }
        return position == payload.Length;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int WriteVarint(Span<byte> buffer, int position, ulong value)
    {
        while (value >= 0x80)
        {
            buffer[position++] = (byte)(value | 0x80);
            value >>= 7;
        }
        buffer[position++] = (byte)value;
        return position;
    }

    /// <summary>Reads a LEB128 varint of at most 10 bytes whose value fits 64 bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryReadVarint(ReadOnlySpan<byte> payload, ref int position, out ulong value)
    {
        value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (position >= payload.Length) return false;
            byte b = payload[position++];
            if (shift == 63 && b > 1) return false;
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return true;
        }
        return false;
    }
}
