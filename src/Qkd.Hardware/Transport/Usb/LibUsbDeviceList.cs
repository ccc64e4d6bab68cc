namespace Qkd.Hardware.Transport.Usb;

/// <summary>
/// One libusb_get_device_list snapshot. The libusb_device pointers stay valid until <see cref="Dispose"/>
/// (libusb_free_device_list unreferences them); a device opened meanwhile keeps its own reference.
/// </summary>
internal sealed unsafe class LibUsbDeviceList : IDisposable
{
    private nint _list;
    private readonly int _count;

    public LibUsbDeviceList(LibUsbContext context, string operation)
    {
        var count = LibUsb.GetDeviceList(context.Handle, out _list);
        if (count < 0) throw LibUsbErrors.ToException((int)count, "libusb", operation);
        _count = (int)count;
    }

    public ReadOnlySpan<nint> Devices => _list == 0 ? [] : new ReadOnlySpan<nint>((void*)_list, _count);

    public void Dispose()
    {
        if (_list == 0) return;
        LibUsb.FreeDeviceList(_list, unrefDevices: 1);
        _list = 0;
    }

    /// <summary>Bus, address, port path and descriptor of one device: everything libusb knows without opening it.</summary>
    public static (UsbDeviceDescriptor Descriptor, UsbDeviceInfo Info) Describe(nint device)
    {
        var raw = stackalloc byte[UsbDeviceDescriptor.Length];
        var code = LibUsb.GetDeviceDescriptor(device, raw);
        if (code < 0) throw LibUsbErrors.ToException(code, "usb device", "read device descriptor");
        var descriptor = UsbDeviceDescriptor.Parse(new ReadOnlySpan<byte>(raw, UsbDeviceDescriptor.Length));

        // USB allows at most 7 tiers below the root hub.
        var ports = stackalloc byte[7];
        var portCount = LibUsb.GetPortNumbers(device, ports, 7);
        var portNumbers = portCount > 0 ? new ReadOnlySpan<byte>(ports, portCount).ToArray() : [];

        var info = new UsbDeviceInfo
        {
            VendorId = descriptor.VendorId,
            ProductId = descriptor.ProductId,
            BusNumber = LibUsb.GetBusNumber(device),
            DeviceAddress = LibUsb.GetDeviceAddress(device),
            PortNumbers = portNumbers,
        };
        return (descriptor, info);
    }
}
