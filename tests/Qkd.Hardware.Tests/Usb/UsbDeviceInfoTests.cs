using Qkd.Protocol;
using Qkd.Hardware.Transport.Usb;

namespace Qkd.Hardware.Tests.Usb;

public class UsbDeviceInfoTests
{
    private static UsbDeviceInfo Tagger(params byte[] ports) => new()
    {
        VendorId = 0x1209,
        ProductId = 0x7D03,
        SerialNumber = "TT-0042",
        BusNumber = 1,
        DeviceAddress = 7,
        PortNumbers = ports,
    };

    [Fact]
    public void Location_is_the_kernel_name_bus_dash_ports_joined_by_dots()
    {
        Assert.Equal("1-4.2", Tagger(4, 2).Location);
        Assert.Equal("1-2", Tagger(2).Location);
        Assert.Equal("usb1", Tagger().Location);
    }

    [Fact]
    public void Description_names_location_ids_and_serial()
    {
        Assert.Equal("usb 1-4.2 1209:7d03 SN TT-0042", Tagger(4, 2).ToString());
        Assert.Equal("usb 1-4 1209:7d03", (Tagger(4) with { SerialNumber = null }).ToString());
        Assert.Equal("/dev/bus/usb/001/007", Tagger(4).DevicePath);
    }

    [Fact]
    public void Known_products_map_to_their_protocol_device_class()
    {
        Assert.Equal(DeviceClass.TimeTagger, Tagger(1).KnownProduct!.DeviceClass);
        Assert.Equal(DeviceClass.SinglePhotonDetector, UsbDeviceIds.Find(0x1209, 0x7D01)!.DeviceClass);
        Assert.Equal(DeviceClass.LaserModulator, UsbDeviceIds.Find(0x1209, 0x7D02)!.DeviceClass);
        Assert.Equal(DeviceClass.RandomNumberGenerator, UsbDeviceIds.Find(0x1209, 0x7D04)!.DeviceClass);
        Assert.Equal("qrng", UsbDeviceIds.Find(0x1209, 0x7D04)!.SymlinkStem);
        Assert.Null(UsbDeviceIds.Find(0x1209, 0x7D05));
        Assert.Null(UsbDeviceIds.Find(0x1d50, 0x7D03));
        Assert.Equal(0x7D02, UsbDeviceIds.ProductIdOf(DeviceClass.LaserModulator));
        Assert.Equal(0x7D04, UsbDeviceIds.ProductIdOf(DeviceClass.RandomNumberGenerator));
        Assert.Throws<ArgumentOutOfRangeException>(() => UsbDeviceIds.ProductIdOf(DeviceClass.Any));
    }

    [Fact]
    public void Timeouts_convert_to_libusb_milliseconds_where_zero_means_forever()
    {
        Assert.Equal(0u, UsbDevice.ToMilliseconds(Timeout.InfiniteTimeSpan));
        Assert.Equal(250u, UsbDevice.ToMilliseconds(TimeSpan.FromMilliseconds(250)));
        // A finite timeout must never round to libusb's "forever".
        Assert.Equal(1u, UsbDevice.ToMilliseconds(TimeSpan.Zero));
        Assert.Equal(1u, UsbDevice.ToMilliseconds(TimeSpan.FromTicks(10)));
    }

    [Fact]
    public void Sysfs_strings_lose_their_trailing_newline_and_absent_ones_are_null()
    {
        var directory = Directory.CreateTempSubdirectory("qkd-sysfs-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(directory, "serial"), "TT-0042\n");
            Assert.Equal("TT-0042", UsbEnumerator.ReadSysfsString(directory, "serial"));
            Assert.Null(UsbEnumerator.ReadSysfsString(directory, "product"));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
