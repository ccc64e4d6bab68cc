using System.Buffers.Binary;

namespace Qkd.Protocol.Messages;

/// <summary>
/// A parameter address (GetParameter request: id u16, channel u8) and, with its value (i64), the SetParameter request
/// and the response to both (which carries the value now in force).
/// </summary>
public readonly record struct ParameterValue(ParameterId Id, byte Channel, long Value)
{
    public const int AddressLength = 3;
    public const int Length = 11;

    public static byte[] AddressPayload(ParameterId id, byte channel)
    {
        var payload = new byte[AddressLength];
        BinaryPrimitives.WriteUInt16LittleEndian(payload, (ushort)id);
        payload[2] = channel;
        return payload;
    }

    public byte[] ToPayload()
    {
        var payload = new byte[Length];
        BinaryPrimitives.WriteUInt16LittleEndian(payload, (ushort)Id);
        payload[2] = Channel;
        BinaryPrimitives.WriteInt64LittleEndian(payload.AsSpan(3), Value);
        return payload;
    }

    public static (ParameterId Id, byte Channel) ReadAddress(ReadOnlySpan<byte> payload)
    {
        PayloadFormatException.Require(payload.Length == AddressLength, $"GetParameter request: {payload.Length} bytes, {AddressLength} expected (id u16, channel u8).");
        return ((ParameterId)BinaryPrimitives.ReadUInt16LittleEndian(payload), payload[2]);
    }

    public static ParameterValue Read(ReadOnlySpan<byte> payload)
    {
        PayloadFormatException.Require(payload.Length == Length, $"parameter value: {payload.Length} bytes, {Length} expected (id u16, channel u8, value i64).");
        return new ParameterValue((ParameterId)BinaryPrimitives.ReadUInt16LittleEndian(payload), payload[2],
            BinaryPrimitives.ReadInt64LittleEndian(payload[3..]));
    }
}
