using System.Buffers.Binary;

namespace Qkd.Protocol.Messages;

/// <summary>StatusChanged event: the flags before and after (u32, u32).</summary>
public readonly record struct StatusChange(StatusFlags Before, StatusFlags After)
{
    public const int Length = 8;

    public byte[] ToPayload()
    {
        var payload = new byte[Length];
        BinaryPrimitives.WriteUInt32LittleEndian(payload, (uint)Before);
        BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(4), (uint)After);
        return payload;
    }

    public static StatusChange Read(ReadOnlySpan<byte> payload)
    {
        PayloadFormatException.Require(payload.Length == Length, $"StatusChanged event: {payload.Length} bytes, {Length} expected.");
        return new StatusChange((StatusFlags)BinaryPrimitives.ReadUInt32LittleEndian(payload), (StatusFlags)BinaryPrimitives.ReadUInt32LittleEndian(payload[4..]));
    }
}

/// <summary>
/// Overflow event: data the device lost and could not stream (u64 items, then the device-time span i64 ps begin and
/// end). The tag stream also carries the gap in band as OverflowBegin/OverflowEnd records.
/// </summary>
public readonly record struct OverflowReport(ulong ItemsLost, long BeginPs, long EndPs)
{
    public const int Length = 24;

    public byte[] ToPayload()
    {
        var payload = new byte[Length];
        BinaryPrimitives.WriteUInt64LittleEndian(payload, ItemsLost);
        BinaryPrimitives.WriteInt64LittleEndian(payload.AsSpan(8), BeginPs);
        BinaryPrimitives.WriteInt64LittleEndian(payload.AsSpan(16), EndPs);
        return payload;
    }

    public static OverflowReport Read(ReadOnlySpan<byte> payload)
    {
        PayloadFormatException.Require(payload.Length == Length, $"Overflow event: {payload.Length} bytes, {Length} expected.");
        return new OverflowReport(BinaryPrimitives.ReadUInt64LittleEndian(payload), BinaryPrimitives.ReadInt64LittleEndian(payload[8..]),
            BinaryPrimitives.ReadInt64LittleEndian(payload[16..]));
    }
}

/// <summary>InterlockChanged event: u8 1 = open (unsafe: emission and bias off), 0 = closed.</summary>
public readonly record struct InterlockChange(bool Open)
{
    public byte[] ToPayload() => [Open ? (byte)1 : (byte)0];

    public static InterlockChange Read(ReadOnlySpan<byte> payload)
    {
        PayloadFormatException.Require(payload.Length == 1 && payload[0] <= 1, "InterlockChanged event: one byte, 0 or 1, expected.");
        return new InterlockChange(payload[0] == 1);
    }
}

/// <summary>The response to StopStream / StopEmission: items streamed (tags, symbols) and stream frames sent/received.</summary>
public readonly record struct StreamSummary(ulong Items, uint Frames)
{
    public const int Length = 12;

    public byte[] ToPayload()
    {
        var payload = new byte[Length];
        BinaryPrimitives.WriteUInt64LittleEndian(payload, Items);
        BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(8), Frames);
        return payload;
    }

    public static StreamSummary Read(ReadOnlySpan<byte> payload)
    {
        PayloadFormatException.Require(payload.Length == Length, $"stream summary: {payload.Length} bytes, {Length} expected.");
        return new StreamSummary(BinaryPrimitives.ReadUInt64LittleEndian(payload), BinaryPrimitives.ReadUInt32LittleEndian(payload[8..]));
    }
}

/// <summary>Detector ReadCounts response: the window since the previous read (i64 ps), then u8 heads and u64 counts per head.</summary>
public sealed record DetectorCounts(long WindowPs, ulong[] Counts)
{
    public byte[] ToPayload()
    {
        var payload = new byte[9 + 8 * Counts.Length];
        BinaryPrimitives.WriteInt64LittleEndian(payload, WindowPs);
        payload[8] = (byte)Counts.Length;
        for (int i = 0; i < Counts.Length; i++) BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(9 + 8 * i), Counts[i]);
        return payload;
    }

    public static DetectorCounts Read(ReadOnlySpan<byte> payload)
    {
        PayloadFormatException.Require(payload.Length >= 9, $"ReadCounts response: {payload.Length} bytes, at least 9 expected.");
        int heads = payload[8];
        PayloadFormatException.Require(payload.Length == 9 + 8 * heads, $"ReadCounts response: {payload.Length} bytes for {heads} heads, {9 + 8 * heads} expected.");
        var counts = new ulong[heads];
        for (int i = 0; i < heads; i++) counts[i] = BinaryPrimitives.ReadUInt64LittleEndian(payload[(9 + 8 * i)..]);
        return new DetectorCounts(BinaryPrimitives.ReadInt64LittleEndian(payload), counts);
    }

    /// <summary>Count rate of a head over the window, per second.</summary>
    public double RateHz(int head) => WindowPs > 0 ? Counts[head] * 1e12 / WindowPs : 0;
}
