using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Qkd.Acquisition.Replay;
using Qkd.Core.TimeTags;

namespace Qkd.Reference;

/// <summary>
/// Qkd.Acquisition.Replay.TimeTagRecordCodec.DecodeChunk as it was on main (5edd6ce: byte-wise records, the chunk
/// summary found while decoding) before the word-wide record path of issue 14, kept verbatim as the benchmarks'
/// baseline and the reference of <c>TimeTagRecordCodecTests</c>; not product code.
/// </summary>
internal static class PreTagPathRecordCodec
{
    /// <summary>
    /// Decodes exactly <paramref name="destination"/>.Length records that must use up exactly the whole payload.
    /// Returns false (never throws) on any malformation so the reader can count the chunk as corrupt. On success,
    /// <paramref name="summary"/> says what the reader's integrity checks need (earliest and latest time, whether an
    /// overflow tag is among them), so it need not pass over the tags again.
    /// </summary>
    /// <remarks>
    /// A word-wide varint path (the delta's length from the continuation bits, no branch per byte) was tried for issue
    /// 14 and measured no faster than this byte-wise loop (tag-path-cpu: ratio 1.06), so the loop stays as it was.
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
        int i = 0;
        for (; i < count; i++)
        {
            if (!DecodeRecord(payload, ref position, ref ticks, resolutionPs, out Unsafe.Add(ref tags, i))) return false;
            long t = Unsafe.Add(ref tags, i).TimePs;
            minPs = Math.Min(minPs, t);
            maxPs = Math.Max(maxPs, t);
            kinds |= 1 << (int)Unsafe.Add(ref tags, i).Kind;
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
