namespace Qkd.Hardware.Transport.Usb;

/// <summary>
/// What enumeration learns about one attached USB device without claiming it: identity (VID:PID, serial number),
/// where it is plugged in (bus and port path, stable across re-plugs into the same socket, unlike the device
/// address), and the manufacturer/product strings. Plain data: <see cref="UsbDevice.Open"/> finds the device again by
/// bus number and address, which identify it uniquely while it stays plugged in.
/// </summary>
public sealed record UsbDeviceInfo
{
    public required ushort VendorId { get; init; }
    public required ushort ProductId { get; init; }

    /// <summary>iSerialNumber as text, or null when the device has none or it could not be read (no permission).</summary>
    public string? SerialNumber { get; init; }

    public string? Manufacturer { get; init; }
    public string? Product { get; init; }

    public required byte BusNumber { get; init; }

    /// <summary>Address on the bus; changes on every re-plug, so it is for /dev/bus/usb paths and logs only.</summary>
    public required byte DeviceAddress { get; init; }

    /// <summary>Hub port numbers from the root hub down, e.g. [4, 2] for a device behind a hub on port 4.</summary>
    public required IReadOnlyList<byte> PortNumbers { get; init; }

    /// <summary>Kernel-style location "bus-port.port", e.g. "1-4.2": the sysfs name under /sys/bus/usb/devices.</summary>
    public string Location => PortNumbers.Count == 0
        ? $"usb{BusNumber}"
        : $"{BusNumber}-{string.Join('.', PortNumbers)}";

    /// <summary>The usbfs node libusb opens.</summary>
    public string DevicePath => $"/dev/bus/usb/{BusNumber:D3}/{DeviceAddress:D3}";

    /// <summary>Our product entry when the VID:PID is one of the supported devices.</summary>
    public UsbProduct? KnownProduct => UsbDeviceIds.Find(VendorId, ProductId);

    /// <summary>"usb 1-4.2 1209:7d03 SN TT-0042", the form used in <see cref="Qkd.Protocol.Transport.IFrameTransport.Description"/> and errors.</summary>
    public override string ToString() =>
        $"usb {Location} {VendorId:x4}:{ProductId:x4}" + (SerialNumber is null ? "" : $" SN {SerialNumber}");
}
