using Qkd.Protocol;
namespace Qkd.Hardware.Transport.Usb;

/// <summary>
/// An opened USB device (a libusb_device_handle): claim an interface, then synchronous bulk transfers with timeouts.
/// For streaming reads with several transfers in flight use <see cref="UsbBulkReader"/> on the same device.
/// </summary>
/// <remarks>
/// One thread may write while another reads (libusb is thread-safe for that). Every failure is typed: an unplugged
/// device gives <see cref="DeviceDisconnectedException"/>, a timeout <see cref="DeviceTimeoutException"/>, and the
/// message names the device as "usb 1-4 1209:7d03 SN TT-0042".
/// </remarks>
public sealed class UsbDevice : IDisposable
{
    private readonly LibUsbContext _context;
    private readonly List<int> _claimed = [];
    private nint _handle;

    private UsbDevice(LibUsbContext context, nint handle, UsbDeviceInfo info)
    {
        _context = context;
        _handle = handle;
        Info = info;
    }

    public UsbDeviceInfo Info { get; }

    /// <summary>For logs and errors: "usb 1-4.2 1209:7d03 SN TT-0042".</summary>
    public string Description => Info.ToString();

    internal LibUsbContext Context => _context;

    internal nint Handle => _handle != 0 ? _handle : throw new ObjectDisposedException(Description);

    /// <summary>Opens the device <paramref name="info"/> describes (found again by bus number and address).</summary>
    /// <exception cref="DeviceDisconnectedException">It was unplugged since enumeration.</exception>
    /// <exception cref="DeviceException">No permission (see udev-rules/README.md), or libusb is missing.</exception>
    public static UsbDevice Open(UsbDeviceInfo info)
    {
        const string operation = "open";
        var context = LibUsbContext.Acquire(operation);
        try
        {
            using var list = new LibUsbDeviceList(context, operation);
            foreach (var device in list.Devices)
            {
                if (LibUsb.GetBusNumber(device) != info.BusNumber || LibUsb.GetDeviceAddress(device) != info.DeviceAddress) continue;
                var code = LibUsb.Open(device, out var handle);
                if (code < 0) throw LibUsbErrors.ToException(code, info.ToString(), operation);
                return new UsbDevice(context, handle, info);
            }

            throw new DeviceDisconnectedException(info.ToString(), operation, new IOException($"{info.DevicePath} is no longer attached"));
        }
        catch
        {
            context.Release();
            throw;
        }
    }

    /// <summary>
    /// Claims an interface for this process, first detaching a kernel driver bound to it (a vendor-specific interface
    /// normally has none, but a generic driver may have grabbed it).
    /// </summary>
    public void ClaimInterface(int interfaceNumber)
    {
        var operation = $"claim interface {interfaceNumber}";
        var active = LibUsb.KernelDriverActive(Handle, interfaceNumber);
        // NOT_SUPPORTED: the platform cannot tell (not Linux); claiming will say whether it is free.
        if (active < 0 && active != LibUsbErrors.NotSupported) throw LibUsbErrors.ToException(active, Description, operation);
        if (active == 1) LibUsbErrors.Check(LibUsb.DetachKernelDriver(Handle, interfaceNumber), Description, $"detach kernel driver from interface {interfaceNumber}");
        LibUsbErrors.Check(LibUsb.ClaimInterface(Handle, interfaceNumber), Description, operation);
        _claimed.Add(interfaceNumber);
    }

    public void ReleaseInterface(int interfaceNumber)
    {
        if (!_claimed.Remove(interfaceNumber)) return;
        LibUsbErrors.Check(LibUsb.ReleaseInterface(Handle, interfaceNumber), Description, $"release interface {interfaceNumber}");
    }

    /// <summary>wMaxPacketSize of an endpoint in the active configuration; throws when the endpoint does not exist.</summary>
    public int GetMaxPacketSize(byte endpoint) =>
        LibUsbErrors.Check(LibUsb.GetMaxPacketSize(LibUsb.GetDevice(Handle), endpoint), Description, $"look up endpoint 0x{endpoint:X2}");

    /// <summary>Writes all of <paramref name="data"/> as one bulk OUT transfer.</summary>
    /// <param name="timeout">How long the device may take to accept it; <see cref="Timeout.InfiniteTimeSpan"/> waits forever.</param>
    public unsafe void BulkWrite(byte endpoint, ReadOnlySpan<byte> data, TimeSpan timeout)
    {
        int code, transferred;
        fixed (byte* p = data)
        {
            code = LibUsb.BulkTransfer(Handle, endpoint, p, data.Length, out transferred, ToMilliseconds(timeout));
        }

        var operation = $"bulk OUT of {data.Length} bytes to endpoint 0x{endpoint:X2}";
        if (code < 0) throw LibUsbErrors.ToException(code, Description, operation, timeout);
        if (transferred != data.Length)
            throw new DeviceException(Description, operation, $"the device took only {transferred} bytes");
    }

    /// <summary>Reads one bulk IN transfer into <paramref name="buffer"/> and returns its length.</summary>
    /// <remarks>Size the buffer as the whole transfer the device may send (64 KiB for our firmware), or libusb reports
    /// LIBUSB_ERROR_OVERFLOW.</remarks>
    public unsafe int BulkRead(byte endpoint, Span<byte> buffer, TimeSpan timeout)
    {
        int code, transferred;
        fixed (byte* p = buffer)
        {
            code = LibUsb.BulkTransfer(Handle, endpoint, p, buffer.Length, out transferred, ToMilliseconds(timeout));
        }

        if (code < 0) throw LibUsbErrors.ToException(code, Description, $"bulk IN from endpoint 0x{endpoint:X2}", timeout);
        return transferred;
    }

    public void Dispose()
    {
        if (_handle == 0) return;
        foreach (var interfaceNumber in _claimed)
        {
            LibUsb.ReleaseInterface(_handle, interfaceNumber); // best effort: the device may already be gone
        }

        _claimed.Clear();
        LibUsb.Close(_handle);
        _handle = 0;
        _context.Release();
    }

    /// <summary>libusb's timeout unit is the millisecond, 0 meaning forever; never round a finite timeout down to 0.</summary>
    internal static uint ToMilliseconds(TimeSpan timeout) =>
        timeout == Timeout.InfiniteTimeSpan ? 0u : (uint)Math.Clamp(Math.Ceiling(timeout.TotalMilliseconds), 1, uint.MaxValue);
}
