using Qkd.Protocol;
using Qkd.Protocol.Messages;
using Qkd.Protocol.Transport;
using Qkd.Hardware.Transport.Serial;
using Qkd.Hardware.Transport.Usb;

namespace Qkd.Hardware.Devices;

/// <summary>
/// Finds what is attached: supported USB devices by VID:PID (each asked to Identify), serial ports (each probed with
/// an Identify request; ports that do not answer are listed as such), and GPIO chips. Nothing is configured or
/// changed: a probe is one Identify frame.
/// </summary>
public sealed class DeviceDiscovery
{
    private readonly UsbEnumerator _usb;
    private readonly SerialPortScanner _serial;
    private readonly Func<IEnumerable<string>> _gpioChips;
    private readonly TimeSpan _probeTimeout;

    public DeviceDiscovery(UsbEnumerator? usb = null, SerialPortScanner? serial = null, Func<IEnumerable<string>>? gpioChips = null,
        TimeSpan? probeTimeout = null)
    {
        _usb = usb ?? new UsbEnumerator();
        _serial = serial ?? new SerialPortScanner();
        _gpioChips = gpioChips ?? (() => Directory.Exists("/dev") ? Directory.EnumerateFiles("/dev", "gpiochip*").Order() : []);
        _probeTimeout = probeTimeout ?? TimeSpan.FromMilliseconds(300);
    }

    public IReadOnlyList<DiscoveredDevice> Discover(bool usb = true, bool serial = true, bool gpio = true)
    {
        var found = new List<DiscoveredDevice>();
        if (usb) found.AddRange(DiscoverUsb());
        if (serial) found.AddRange(DiscoverSerial());
        if (gpio) found.AddRange(DiscoverGpio());
        return found;
    }

    public IEnumerable<DiscoveredDevice> DiscoverUsb()
    {
        IReadOnlyList<UsbDeviceInfo> devices;
        string? problem = null;
        try { devices = _usb.ListSupported(); }
        catch (DeviceException e)
        {
            devices = [];
            problem = e.Message;
        }
        if (problem is not null)
        {
            yield return new DiscoveredDevice("usb", "-", null, null, problem);
            yield break;
        }
        foreach (var device in devices)
        {
            string path = $"{device.DevicePath} ({device.Location})";
            string detail = $"{device.VendorId:x4}:{device.ProductId:x4} {device.Manufacturer} {device.Product} SN {device.SerialNumber}".Trim();
            yield return Probe("usb", path, detail, () => UsbFrameTransport.Open(device));
        }
    }

    public IEnumerable<DiscoveredDevice> DiscoverSerial()
    {
        foreach (var port in _serial.Scan())
        {
            string path = port.Aliases.Count > 0 ? $"{port.Path} ({string.Join(", ", port.Aliases)})" : port.Path;
            yield return Probe("serial", path, null, () => SerialFrameTransport.Open(new SerialPortOptions(port.Path)));
        }
    }

    public IEnumerable<DiscoveredDevice> DiscoverGpio()
    {
        foreach (string chip in _gpioChips())
        {
            var info = GpioChipInfo.TryRead(chip, out string? problem);
            yield return new DiscoveredDevice("gpio", chip, null,
                info is { } i ? $"{i.Name} \"{i.Label}\", {i.Lines} lines" : null, problem);
        }
    }

    /// <summary>Opens a transport and asks Identify once, with class Any (every device answers it).</summary>
    public DiscoveredDevice Probe(string bus, string path, string? detail, Func<IFrameTransport> open)
    {
        try
        {
            using var connection = new DeviceConnection(open(), DeviceClass.Any, $"device at {path}",
                new DeviceConnectionOptions { ReplyTimeout = _probeTimeout, Retries = 0 });
            var identity = DeviceIdentity.Read(connection.Request(MessageType.Identify, default, "identify"));
            return new DiscoveredDevice(bus, path, identity, detail, null);
        }
        catch (DeviceTimeoutException)
        {
            return new DiscoveredDevice(bus, path, null, detail, "no answer to Identify: not a QkdDriver device, or busy");
        }
        catch (Exception e) when (e is DeviceException or PayloadFormatException or UnauthorizedAccessException or IOException)
        {
            return new DiscoveredDevice(bus, path, null, detail, e.Message);
        }
    }
}
