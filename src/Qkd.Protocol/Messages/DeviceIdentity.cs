using System.Buffers.Binary;
using System.Text;

namespace Qkd.Protocol.Messages;

/// <summary>The Identify response: who the device is (firmware-protocols/framing.md, "Identify").</summary>
public sealed record DeviceIdentity(
    DeviceClass DeviceClass, byte ProtocolVersion, ushort VendorId, ushort ProductId, Version FirmwareVersion,
    byte ChannelCount, string SerialNumber, string Model)
{
    private const int MaxText = 64;

    public int Write(Span<byte> destination)
    {
        Check(SerialNumber, "serial number");
        Check(Model, "model");
        destination[0] = (byte)DeviceClass;
        destination[1] = ProtocolVersion;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[2..], VendorId);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[4..], ProductId);
        destination[6] = (byte)FirmwareVersion.Major;
        destination[7] = (byte)FirmwareVersion.Minor;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[8..], (ushort)Math.Max(0, FirmwareVersion.Build));
        destination[10] = ChannelCount;
        int at = 11;
        at += WriteText(destination[at..], SerialNumber);
        at += WriteText(destination[at..], Model);
        return at;
    }

    public byte[] ToPayload()
    {
        var buffer = new byte[11 + 2 + 2 * MaxText];
        return buffer[..Write(buffer)];
    }

    public static DeviceIdentity Read(ReadOnlySpan<byte> payload)
    {
        PayloadFormatException.Require(payload.Length >= 13, $"Identify response: {payload.Length} bytes, at least 13 expected.");
        PayloadFormatException.Require(DeviceClasses.IsDefined(payload[0]), $"Identify response: device class {payload[0]} is not defined.");
        int at = 11;
        string serial = ReadText(payload, ref at, "serial number");
        string model = ReadText(payload, ref at, "model");
        PayloadFormatException.Require(at == payload.Length, $"Identify response: {payload.Length - at} bytes after the model.");
        return new DeviceIdentity((DeviceClass)payload[0], payload[1], BinaryPrimitives.ReadUInt16LittleEndian(payload[2..]),
            BinaryPrimitives.ReadUInt16LittleEndian(payload[4..]),
            new Version(payload[6], payload[7], BinaryPrimitives.ReadUInt16LittleEndian(payload[8..])), payload[10], serial, model);
    }

    public override string ToString() =>
        $"{DeviceClass.Describe()} {Model} SN {SerialNumber}, firmware {FirmwareVersion}, {VendorId:x4}:{ProductId:x4}, {ChannelCount} channels";

    private static void Check(string text, string field)
    {
        if (text.Length > MaxText || text.Any(c => c < 0x20 || c > 0x7E))
            throw new ArgumentException($"The {field} must be at most {MaxText} printable ASCII characters: '{text}'.");
    }

    private static int WriteText(Span<byte> destination, string text)
    {
        destination[0] = (byte)text.Length;
        Encoding.ASCII.GetBytes(text, destination[1..]);
        return 1 + text.Length;
    }

    private static string ReadText(ReadOnlySpan<byte> payload, ref int at, string field)
    {
        PayloadFormatException.Require(at < payload.Length, $"Identify response: the {field} is missing.");
        int length = payload[at];
        PayloadFormatException.Require(length <= MaxText && at + 1 + length <= payload.Length, $"Identify response: the {field} length {length} runs past the payload.");
        ReadOnlySpan<byte> text = payload.Slice(at + 1, length);
        foreach (byte b in text)
            PayloadFormatException.Require(b is >= 0x20 and <= 0x7E, $"Identify response: the {field} holds a non-printable byte 0x{b:X2}.");
        at += 1 + length;
        return Encoding.ASCII.GetString(text);
    }
}
