using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
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
    /// Returns false (never throws) on any malformation so the reader can count the chunk as corrupt. On success,
    /// <paramref name="summary"/> says what the reader's integrity checks need (earliest and latest time, whether an
    /// overflow tag is among them), so it need not pass over the tags again.
    /// </summary>
    /// <remarks>
    /// Issue 14: a record whose eight bytes from its lead byte lie inside the payload, with no escaped channel, no missed
    /// events and a delta of at most seven bytes (every detector and sync tag of a recording) is decoded from one
    /// unaligned 64-bit load: the delta's length from the first clear continuation bit, its 7-bit groups gathered by
    /// three shift-and-mask steps, no branch per byte and no bounds check. Anything else (the last records of the
    /// payload, escaped channels, missed-event counts, long varints, malformations) goes byte by byte as before, so
    /// the chunk decodes to the same tags and is refused for the same payloads (<c>TimeTagRecordCodecTests</c>
    /// against the former decoder, tests/Shared/Reference/PreTagPathRecordCodec.cs).
    /// </remarks>
    public static bool DecodeChunk(ReadOnlySpan<byte> payload, long baseTicks, uint resolutionPs, Span<TimeTag> destination, out ChunkSummary summary)
    {
        summary = default;
        int position = 0;
        long ticks = baseTicks;
        long minPs = long.MaxValue, maxPs = long.MinValue;
        int kinds = 0;
        int count = destination.Length;
        ref TimeTag tags = ref MemoryMarshal.GetReference(destination);
        ref byte bytes = ref MemoryMarshal.GetReference(payload);
        int wordEnd = payload.Length - sizeof(ulong); // a word load at or before this position stays inside the payload
        long resolution = resolutionPs;
        int i = 0;
        for (; i < count; i++)
        {
            ref TimeTag tag = ref Unsafe.Add(ref tags, i);
            if (position <= wordEnd)
            {
                ulong word = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref bytes, position));
                int lead = (int)(word & 0xFF);
                ulong varint = word >> 8;
                ulong stops = ~varint & 0x0080_8080_8080_8080UL; // the high bit of each of the seven bytes after the lead, clear = last byte
                if ((lead & TimeTagFileLayout.MissedEventsFlag) == 0 && lead < TimeTagFileLayout.EscapedChannel << 3 && stops != 0)
                {
                    int last = BitOperations.TrailingZeroCount(stops); // 7, 15, ..., 55: the last byte's high bit
                    ulong groups = varint & ((2UL << last) - 1) & 0x7F7F_7F7F_7F7F_7F7FUL;
                    groups = ((groups & 0x7F00_7F00_7F00_7F00UL) >> 1) | (groups & 0x007F_007F_007F_007FUL);
                    groups = ((groups & 0x3FFF_0000_3FFF_0000UL) >> 2) | (groups & 0x0000_3FFF_0000_3FFFUL);
                    groups = ((groups & 0x0FFF_FFFF_0000_0000UL) >> 4) | (groups & 0x0000_0000_0FFF_FFFFUL);
                    position += 2 + (last >> 3);
                    ticks = unchecked(ticks + ((long)(groups >> 1) ^ -(long)(groups & 1)));
                    long timePs = unchecked(ticks * resolution);
                    tag = new TimeTag(timePs, (ushort)(lead >> 3), (TimeTagKind)(lead & TimeTagFileLayout.KindMask));
                    minPs = Math.Min(minPs, timePs);
                    maxPs = Math.Max(maxPs, timePs);
                    kinds |= 1 << (lead & TimeTagFileLayout.KindMask);
                    continue;
                }
            }
            if (!DecodeRecord(payload, ref position, ref ticks, resolutionPs, out tag)) return false;
            long t = tag.TimePs;
            minPs = Math.Min(minPs, t);
            maxPs = Math.Max(maxPs, t);
            kinds |= 1 << (int)tag.Kind;
        }
        if (position != payload.Length) return false;
        summary = new ChunkSummary(minPs, maxPs, (kinds & (1 << (int)TimeTagKind.OverflowBegin | 1 << (int)TimeTagKind.OverflowEnd)) != 0);
        return true;
    }

    /// <summary>One record, byte by byte, every position checked.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool DecodeRecord(ReadOnlySpan<byte> payload, ref int position, ref long ticks, uint resolutionPs, out TimeTag tag)
    {
        tag = default;
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
        tag = new TimeTag(unchecked(ticks * resolutionPs), (ushort)channel, (TimeTagKind)(lead & TimeTagFileLayout.KindMask), missed);
        return true;
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

/// <summary>What a decoded chunk holds that the reader's integrity checks need: its earliest and latest tag time, and
/// whether an overflow-begin or overflow-end tag is among its tags.</summary>
internal readonly record struct ChunkSummary(long MinPs, long MaxPs, bool HasOverflowTags);
