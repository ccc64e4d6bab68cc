using System.Buffers.Binary;

namespace Qkd.Protocol.Messages;

/// <summary>
/// The GetStatus response: state flags and the device's own counters, so a host sees what the device dropped even when
/// the frames that would have told it were lost.
/// </summary>
/// <param name="ItemsLost">Tags the tagger could not stream (FIFO overflow), or pulses the modulator sent as vacuum for lack of symbols (underrun).</param>
/// <param name="StreamFramesMissed">Host-to-device stream frames the device saw missing (gaps in their sequence numbers).</param>
public sealed record DeviceStatus(
    StatusFlags Flags, ulong UptimeMs, ulong FramesReceived, ulong FramesRejected, ulong FramesSent, ulong ItemsLost,
    ulong StreamFramesMissed)
{
    public const int Length = 4 + 6 * 8;

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)Flags);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[4..], UptimeMs);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[12..], FramesReceived);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[20..], FramesRejected);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[28..], FramesSent);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[36..], ItemsLost);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[44..], StreamFramesMissed);
    }

    public byte[] ToPayload()
    {
        var payload = new byte[Length];
        Write(payload);
        return payload;
    }

    public static DeviceStatus Read(ReadOnlySpan<byte> payload)
    {
        PayloadFormatException.Require(payload.Length == Length, $"GetStatus response: {payload.Length} bytes, {Length} expected.");
        return new DeviceStatus((StatusFlags)BinaryPrimitives.ReadUInt32LittleEndian(payload),
            BinaryPrimitives.ReadUInt64LittleEndian(payload[4..]), BinaryPrimitives.ReadUInt64LittleEndian(payload[12..]),
            BinaryPrimitives.ReadUInt64LittleEndian(payload[20..]), BinaryPrimitives.ReadUInt64LittleEndian(payload[28..]),
            BinaryPrimitives.ReadUInt64LittleEndian(payload[36..]), BinaryPrimitives.ReadUInt64LittleEndian(payload[44..]));
    }
}
