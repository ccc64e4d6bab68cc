using System.Text;
using Qkd.Protocol;

namespace Qkd.Hardware.Transport.Usb;

/// <summary>
/// Lists attached USB devices and finds ours by VID:PID and serial number, without claiming anything.
/// </summary>
/// <remarks>
/// Serial number and manufacturer/product strings are read from sysfs (/sys/bus/usb/devices/&lt;location&gt;/serial)
/// when it exists: the kernel read them at plug-in, so enumeration sends nothing to the device, wakes nothing, and
/// works for devices the process may not open. Where sysfs is absent (not Linux) the strings come from the device
/// itself through libusb_get_string_descriptor_ascii, which needs the device opened; a device that cannot be opened
/// is still listed, with null strings.
/// </remarks>
public sealed class UsbEnumerator
{
    /// <summary>Where Linux exposes one directory per USB device, named by <see cref="UsbDeviceInfo.Location"/>.</summary>
    public const string LinuxSysfsDevices = "/sys/bus/usb/devices";

    private readonly string? _sysfsDevices;

    /// <param name="sysfsDevices">The sysfs device directory, or null to always ask the devices themselves.</param>
    public UsbEnumerator(string? sysfsDevices = LinuxSysfsDevices) => _sysfsDevices = sysfsDevices;

    /// <summary>Every attached USB device, hubs included.</summary>
    /// <exception cref="DeviceException">libusb is not installed or enumeration failed.</exception>
    public IReadOnlyList<UsbDeviceInfo> ListAll() => Scan(static (_, _) => true, serialNumber: null);

    /// <summary>Every attached device with our vendor ID and a known product ID.</summary>
    public IReadOnlyList<UsbDeviceInfo> ListSupported() =>
        Scan(static (vid, pid) => UsbDeviceIds.Find(vid, pid) is not null, serialNumber: null);

    /// <summary>Devices with this VID:PID and, when given, exactly this serial number.</summary>
    public IReadOnlyList<UsbDeviceInfo> Find(ushort vendorId, ushort productId, string? serialNumber = null) =>
        Scan((vid, pid) => vid == vendorId && pid == productId, serialNumber);

    /// <summary>The one device with this VID:PID (and serial number); throws when there is none or several.</summary>
    /// <exception cref="DeviceException">Not attached, or ambiguous because no serial number was given.</exception>
    public UsbDeviceInfo FindSingle(ushort vendorId, ushort productId, string? serialNumber = null)
    {
        var found = Find(vendorId, productId, serialNumber);
        var wanted = $"usb {vendorId:x4}:{productId:x4}" + (serialNumber is null ? "" : $" SN {serialNumber}");
        return found.Count switch
        {
            1 => found[0],
            0 => throw new DeviceException(wanted, "find device", "not attached (check the cable, `lsusb`, and udev permissions)"),
            _ => throw new DeviceException(wanted, "find device",
                $"{found.Count} devices match ({string.Join(", ", found)}); give a serial number"),
        };
    }

    private List<UsbDeviceInfo> Scan(Func<ushort, ushort, bool> matches, string? serialNumber)
    {
        const string operation = "enumerate USB devices";
        var context = LibUsbContext.Acquire(operation);
        try
        {
            using var list = new LibUsbDeviceList(context, operation);
            var result = new List<UsbDeviceInfo>();
            foreach (var device in list.Devices)
            {
                var (descriptor, info) = LibUsbDeviceList.Describe(device);
                if (!matches(info.VendorId, info.ProductId)) continue;
                info = WithStrings(device, descriptor, info);
                if (serialNumber is not null && !string.Equals(info.SerialNumber, serialNumber, StringComparison.Ordinal)) continue;
                result.Add(info);
            }

            return result;
        }
        finally
        {
            context.Release();
        }
    }

    private UsbDeviceInfo WithStrings(nint device, UsbDeviceDescriptor descriptor, UsbDeviceInfo info)
    {
        if (_sysfsDevices is not null && info.PortNumbers.Count > 0)
        {
            var directory = Path.Combine(_sysfsDevices, info.Location);
            if (Directory.Exists(directory))
            {
                return info with
                {
                    SerialNumber = ReadSysfsString(directory, "serial"),
                    Manufacturer = ReadSysfsString(directory, "manufacturer"),
                    Product = ReadSysfsString(directory, "product"),
                };
            }
        }

        return WithStringsFromDevice(device, descriptor, info);
    }

    /// <summary>A sysfs attribute without its trailing newline; null when absent (the device has no such string).</summary>
    internal static string? ReadSysfsString(string directory, string attribute)
    {
        var path = Path.Combine(directory, attribute);
        if (!File.Exists(path)) return null;
        try
        {
            return File.ReadAllText(path).TrimEnd('\n');
        }
        catch (IOException)
        {
            return null; // the device went away between listing and reading
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static unsafe UsbDeviceInfo WithStringsFromDevice(nint device, UsbDeviceDescriptor descriptor, UsbDeviceInfo info)
    {
        if (descriptor.SerialNumberIndex == 0 && descriptor.ManufacturerIndex == 0 && descriptor.ProductIndex == 0) return info;
        if (LibUsb.Open(device, out var handle) < 0) return info; // no permission or gone: list it without strings
        try
        {
            return info with
            {
                SerialNumber = ReadStringDescriptor(handle, descriptor.SerialNumberIndex),
                Manufacturer = ReadStringDescriptor(handle, descriptor.ManufacturerIndex),
                Product = ReadStringDescriptor(handle, descriptor.ProductIndex),
            };
        }
        finally
        {
            LibUsb.Close(handle);
        }
    }

    private static unsafe string? ReadStringDescriptor(nint handle, byte index)
    {
        if (index == 0) return null;
        // A string descriptor holds at most 126 UTF-16 code units; libusb renders each as one ASCII byte.
        var buffer = stackalloc byte[256];
        var length = LibUsb.GetStringDescriptorAscii(handle, index, buffer, 256);
        return length < 0 ? null : Encoding.ASCII.GetString(buffer, length);
    }
}
