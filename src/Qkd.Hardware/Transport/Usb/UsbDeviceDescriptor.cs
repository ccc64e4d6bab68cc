using System.Buffers.Binary;

namespace Qkd.Hardware.Transport.Usb;

/// <summary>
/// The 18-byte USB device descriptor (USB 2.0 §9.6.1). libusb_get_device_descriptor fills a struct with exactly this
/// layout (fields in host byte order, which is the wire's little-endian order on every host we run on), so the same
/// parser reads libusb's struct and raw descriptor bytes such as sysfs "descriptors" or a umockdev recording.
/// </summary>
public readonly record struct UsbDeviceDescriptor(
    ushort UsbVersionBcd,
    byte DeviceClass,
    byte DeviceSubClass,
    byte DeviceProtocol,
    byte MaxPacketSize0,
    ushort VendorId,
    ushort ProductId,
    ushort DeviceVersionBcd,
    byte ManufacturerIndex,
    byte ProductIndex,
    byte SerialNumberIndex,
    byte ConfigurationCount)
{
    public const int Length = 18;
    public const byte DescriptorType = 0x01;

    /// <summary>Parses a device descriptor; the span may continue with configuration descriptors.</summary>
    /// <exception cref="FormatException">Too short, or bLength / bDescriptorType are not those of a device descriptor.</exception>
    public static UsbDeviceDescriptor Parse(ReadOnlySpan<byte> raw)
    {
        if (raw.Length < Length)
            throw new FormatException($"a USB device descriptor is {Length} bytes, got {raw.Length}");
        if (raw[0] != Length || raw[1] != DescriptorType)
            throw new FormatException($"not a USB device descriptor: bLength {raw[0]}, bDescriptorType 0x{raw[1]:X2}");

        return new UsbDeviceDescriptor(
            UsbVersionBcd: BinaryPrimitives.ReadUInt16LittleEndian(raw[2..]),
            DeviceClass: raw[4],
            DeviceSubClass: raw[5],
            DeviceProtocol: raw[6],
            MaxPacketSize0: raw[7],
            VendorId: BinaryPrimitives.ReadUInt16LittleEndian(raw[8..]),
            ProductId: BinaryPrimitives.ReadUInt16LittleEndian(raw[10..]),
            DeviceVersionBcd: BinaryPrimitives.ReadUInt16LittleEndian(raw[12..]),
            ManufacturerIndex: raw[14],
            ProductIndex: raw[15],
            SerialNumberIndex: raw[16],
            ConfigurationCount: raw[17]);
    }
}
