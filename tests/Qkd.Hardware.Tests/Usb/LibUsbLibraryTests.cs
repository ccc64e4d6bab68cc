using Qkd.Hardware.Transport.Usb;
using Qkd.Protocol;

namespace Qkd.Hardware.Tests.Usb;

public class LibUsbLibraryTests
{
    [Fact]
    public void A_missing_library_is_a_device_exception_that_says_how_to_install_it()
    {
        var e = Assert.Throws<DeviceException>(() =>
            LibUsbLibrary.Load(["libusb-qkd-absent.so.9", "libusb-qkd-absent"], "enumerate USB devices"));
        Assert.Equal("libusb: enumerate USB devices failed: libusb-1.0 is not installed (apt install libusb-1.0-0)", e.Message);
        Assert.Null(e.InnerException);
    }

    [Fact]
    public void The_versioned_soname_is_tried_first_because_only_the_dev_package_installs_the_unversioned_one()
    {
        Assert.Equal("libusb-1.0.so.0", LibUsbLibrary.Candidates[0]);
        Assert.Equal("libusb-1.0", LibUsb.LibraryName);
    }
}
