using Qkd.Hardware.Transport.Usb;
using Qkd.Protocol;

namespace Qkd.Hardware.Tests.Usb;

public class LibUsbErrorsTests
{
    private const string Device = "usb 1-2 1209:7d03 SN TT-0042";

    [Fact]
    public void No_device_becomes_a_typed_disconnect_that_keeps_the_libusb_name()
    {
        var e = LibUsbErrors.ToException(LibUsbErrors.NoDevice, Device, "bulk IN");
        var disconnected = Assert.IsType<DeviceDisconnectedException>(e);
        Assert.Equal(Device, disconnected.Device);
        Assert.Equal("bulk IN", disconnected.Operation);
        Assert.Contains("LIBUSB_ERROR_NO_DEVICE", disconnected.InnerException!.Message);
    }

    [Fact]
    public void Timeout_becomes_a_typed_timeout_with_the_allowed_time()
    {
        var e = LibUsbErrors.ToException(LibUsbErrors.Timeout, Device, "bulk OUT", TimeSpan.FromMilliseconds(250));
        var timeout = Assert.IsType<DeviceTimeoutException>(e);
        Assert.Equal(TimeSpan.FromMilliseconds(250), timeout.Timeout);
        Assert.Equal($"{Device}: bulk OUT failed: no reply within 250 ms", timeout.Message);
    }

    [Theory]
    [InlineData(LibUsbErrors.Io, "LIBUSB_ERROR_IO")]
    [InlineData(LibUsbErrors.Access, "LIBUSB_ERROR_ACCESS")]
    [InlineData(LibUsbErrors.Busy, "LIBUSB_ERROR_BUSY")]
    [InlineData(LibUsbErrors.NotFound, "LIBUSB_ERROR_NOT_FOUND")]
    [InlineData(LibUsbErrors.Overflow, "LIBUSB_ERROR_OVERFLOW")]
    [InlineData(LibUsbErrors.Pipe, "LIBUSB_ERROR_PIPE")]
    [InlineData(LibUsbErrors.NotSupported, "LIBUSB_ERROR_NOT_SUPPORTED")]
    [InlineData(LibUsbErrors.Other, "LIBUSB_ERROR_OTHER")]
    public void Other_codes_become_a_device_exception_naming_the_libusb_error(int code, string name)
    {
        var e = LibUsbErrors.ToException(code, Device, "claim interface 0");
        Assert.Equal(typeof(DeviceException), e.GetType());
        Assert.StartsWith(name, e.Cause);
        Assert.StartsWith($"{Device}: claim interface 0 failed: {name}", e.Message);
    }

    [Fact]
    public void Permission_denied_tells_the_operator_about_the_udev_rules()
    {
        var e = LibUsbErrors.ToException(LibUsbErrors.Access, Device, "open");
        Assert.Contains("70-qkd.rules", e.Message);
        Assert.Contains("group qkd", e.Message);
    }

    [Fact]
    public void Unknown_codes_are_named_by_number()
    {
        Assert.Equal("libusb error -42", LibUsbErrors.Name(-42));
    }

    [Fact]
    public void Transfer_status_no_device_is_a_disconnect_and_timed_out_a_timeout()
    {
        Assert.IsType<DeviceDisconnectedException>(LibUsbErrors.ToException(TransferStatus.NoDevice, Device, "bulk IN"));
        var timeout = Assert.IsType<DeviceTimeoutException>(LibUsbErrors.ToException(TransferStatus.TimedOut, Device, "bulk IN", TimeSpan.FromSeconds(2)));
        Assert.Equal(TimeSpan.FromSeconds(2), timeout.Timeout);
    }

    [Theory]
    [InlineData(TransferStatus.Error, "LIBUSB_TRANSFER_ERROR")]
    [InlineData(TransferStatus.Stall, "LIBUSB_TRANSFER_STALL")]
    [InlineData(TransferStatus.Overflow, "LIBUSB_TRANSFER_OVERFLOW")]
    [InlineData(TransferStatus.Cancelled, "LIBUSB_TRANSFER_CANCELLED")]
    internal void Other_transfer_statuses_name_the_status(TransferStatus status, string name)
    {
        var e = LibUsbErrors.ToException(status, Device, "bulk IN");
        Assert.Equal(typeof(DeviceException), e.GetType());
        Assert.StartsWith(name, e.Cause);
    }

    [Fact]
    public void Check_passes_counts_through_and_throws_for_errors()
    {
        Assert.Equal(3, LibUsbErrors.Check(3, Device, "list"));
        Assert.Throws<DeviceDisconnectedException>(() => LibUsbErrors.Check(LibUsbErrors.NoDevice, Device, "list"));
    }
}
