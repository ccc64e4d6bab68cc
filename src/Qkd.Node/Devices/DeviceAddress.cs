using Qkd.Hardware.Devices;
using Qkd.Protocol;
using Qkd.Hardware.Transport.Serial;
using Qkd.Protocol.Transport;

namespace Qkd.Node.Devices;

/// <summary>
/// Where one device of a bench is reached: a serial port (a CDC-ACM tty, a USB-serial adapter, or with the udev rules a
/// stable /dev/qkd/...-tty link), or a USB device by its serial number (found by the class's VID:PID).
/// </summary>
public sealed record DeviceAddress
{
    public string? SerialPort { get; init; }
    public string? UsbSerialNumber { get; init; }

    /// <summary>Serial line speed; only meaningful on a real UART (a CDC-ACM port ignores it).</summary>
    public int? BaudRate { get; init; }

    /// <summary>The problem with this address, naming the field, or null.</summary>
    public string? Problem(string role)
    {
        if ((SerialPort is null) == (UsbSerialNumber is null))
            return $"the {role} needs exactly one of \"serialPort\" or \"usbSerialNumber\"";
        if (SerialPort is { } port && string.IsNullOrWhiteSpace(port)) return $"the {role}'s \"serialPort\" is empty";
        if (UsbSerialNumber is { } serial && string.IsNullOrWhiteSpace(serial)) return $"the {role}'s \"usbSerialNumber\" is empty";
        if (BaudRate is int baud && (baud < 300 || baud > 12_000_000)) return $"the {role}'s \"baudRate\" {baud} is outside [300, 12000000]";
        if (BaudRate is not null && SerialPort is null) return $"the {role}'s \"baudRate\" applies to a serial port only";
        return null;
    }

    /// <summary>
    /// A connector for this address (nothing is opened until the driver connects); <paramref name="serialWriteTimeout"/>
    /// bounds a serial write (null: <see cref="SerialPortOptions.WriteTimeout"/>'s default).
    /// </summary>
    public IDeviceConnector Connector(DeviceClass deviceClass, TimeSpan? serialWriteTimeout = null)
    {
        if (SerialPort is not { } port)
            return new UsbDeviceConnector(deviceClass, UsbSerialNumber ?? throw new InvalidOperationException(Problem(deviceClass.Describe())));
        var options = new SerialPortOptions(port);
        if (BaudRate is int baud) options = options with { BaudRate = baud };
        if (serialWriteTimeout is TimeSpan write) options = options with { WriteTimeout = write };
        return new SerialDeviceConnector(options);
    }

    public override string ToString() => SerialPort is { } port ? $"serial {port}" : $"USB serial number {UsbSerialNumber}";
}
