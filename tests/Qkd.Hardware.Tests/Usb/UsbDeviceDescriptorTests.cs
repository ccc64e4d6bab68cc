using CsCheck;
using Qkd.Hardware.Transport.Usb;

namespace Qkd.Hardware.Tests.Usb;

public class UsbDeviceDescriptorTests
{
    // The time tagger's device descriptor as the firmware sends it (and as the umockdev recording holds it).
    private static readonly byte[] TimeTagger = Convert.FromHexString("12010002000000400912037D000101020301");

    [Fact]
    public void Parses_every_field_little_endian()
    {
        var d = UsbDeviceDescriptor.Parse(TimeTagger);
        Assert.Equal(0x0200, d.UsbVersionBcd);
        Assert.Equal(0, d.DeviceClass);
        Assert.Equal(64, d.MaxPacketSize0);
        Assert.Equal(UsbDeviceIds.VendorId, d.VendorId);
        Assert.Equal(UsbDeviceIds.TimeTaggerProductId, d.ProductId);
        Assert.Equal(0x0100, d.DeviceVersionBcd);
        Assert.Equal(1, d.ManufacturerIndex);
        Assert.Equal(2, d.ProductIndex);
        Assert.Equal(3, d.SerialNumberIndex);
        Assert.Equal(1, d.ConfigurationCount);
    }

    [Fact]
    public void Configuration_descriptors_after_the_device_descriptor_are_ignored()
    {
        var withConfig = TimeTagger.Concat(Convert.FromHexString("09022000010100803200")).ToArray();
        Assert.Equal(UsbDeviceDescriptor.Parse(TimeTagger), UsbDeviceDescriptor.Parse(withConfig));
    }

    [Fact]
    public void Rejects_short_input_and_other_descriptor_types()
    {
        Assert.Throws<FormatException>(() => UsbDeviceDescriptor.Parse(TimeTagger.AsSpan(0, 17)));
        var config = (byte[])TimeTagger.Clone();
        config[1] = 0x02;
        var e = Assert.Throws<FormatException>(() => UsbDeviceDescriptor.Parse(config));
        Assert.Contains("0x02", e.Message);
        var wrongLength = (byte[])TimeTagger.Clone();
        wrongLength[0] = 9;
        Assert.Throws<FormatException>(() => UsbDeviceDescriptor.Parse(wrongLength));
    }

    [Fact]
    public void Random_bytes_either_parse_or_raise_a_format_exception()
    {
        Gen.Byte.Array[0, 40].Sample(bytes =>
        {
            try
            {
                var d = UsbDeviceDescriptor.Parse(bytes);
                Assert.True(bytes.Length >= 18 && bytes[0] == 18 && bytes[1] == 1);
                Assert.Equal(bytes[8] | bytes[9] << 8, d.VendorId);
            }
            catch (FormatException)
            {
                Assert.False(bytes.Length >= 18 && bytes[0] == 18 && bytes[1] == 1);
            }
        });
    }
}
