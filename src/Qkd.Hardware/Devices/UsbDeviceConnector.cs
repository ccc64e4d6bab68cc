using Qkd.Protocol;
using Qkd.Protocol.Transport;
using Qkd.Hardware.Transport.Usb;

namespace Qkd.Hardware.Devices;

/// <summary>
/// A device on USB, found by VID:PID and serial number every time it is connected: after a replug it has a new bus
/// address, so the address is never remembered.
/// </summary>
public sealed class UsbDeviceConnector(DeviceClass deviceClass, string? serialNumber, UsbEnumerator? enumerator = null) : IDeviceConnector
{
    private readonly UsbEnumerator _enumerator = enumerator ?? new UsbEnumerator();

    public DeviceClass DeviceClass { get; } = deviceClass;

    public string? SerialNumber { get; } = serialNumber;

    public string Description =>
        $"usb {UsbDeviceIds.VendorId:x4}:{UsbDeviceIds.ProductIdOf(DeviceClass):x4}{(SerialNumber is null ? "" : $" SN {SerialNumber}")}";

    public IFrameTransport Connect()
    {
        var found = _enumerator.Find(UsbDeviceIds.VendorId, UsbDeviceIds.ProductIdOf(DeviceClass), SerialNumber);
        return found.Count switch
        {
            0 => throw new DeviceDisconnectedException($"{DeviceClass.Describe()} ({Description})", "connect", null),
            1 => UsbFrameTransport.Open(found[0]),
            _ => throw new DeviceException($"{DeviceClass.Describe()} ({Description})", "connect",
                $"{found.Count} matching devices are attached ({string.Join(", ", found.Select(d => d.SerialNumber ?? d.Location))}); give a serial number"),
        };
    }
}
