using System.Runtime.InteropServices;

namespace Qkd.Core.TimeTags;

/// <summary>What a time-tag record reports.</summary>
public enum TimeTagKind : byte
{
    /// <summary>A rising edge on the channel (a detector click, a sync pulse).</summary>
    Rising = 0,
    /// <summary>A falling edge on the channel (taggers that report both edges).</summary>
    Falling = 1,
    /// <summary>The tagger's buffer overflowed from this time on: tags are being lost.</summary>
    OverflowBegin = 2,
    /// <summary>The overflow ended; <see cref="TimeTag.MissedEvents"/> tags were lost on the channel (0 = unknown channel).</summary>
    OverflowEnd = 3,
}

/// <summary>
/// One time tag: a 64-bit picosecond timestamp (already extended past the hardware's wrap-around, so it never
/// wraps in practice: 2^63 ps is 106 days), the input channel and what happened. Blittable, 16 bytes, so batches
/// move through rings and files as plain memory.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 8, Size = 16)]
public readonly record struct TimeTag
{
    public TimeTag(long timePs, ushort channel, TimeTagKind kind = TimeTagKind.Rising, uint missedEvents = 0)
    {
        TimePs = timePs;
        Channel = channel;
        Kind = kind;
        MissedEvents = missedEvents;
    }

    /// <summary>Time on the tagger's clock, picoseconds.</summary>
    public long TimePs { get; }

    /// <summary>Input channel, numbered from 0.</summary>
    public ushort Channel { get; }

    public TimeTagKind Kind { get; }

    /// <summary>For <see cref="TimeTagKind.OverflowEnd"/>: how many tags the tagger dropped; otherwise 0.</summary>
    public uint MissedEvents { get; }

    public bool IsEvent => Kind is TimeTagKind.Rising or TimeTagKind.Falling;
}
