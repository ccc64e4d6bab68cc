using Qkd.Emulation.Firmware;
using Qkd.Emulation.Hosting;
using Qkd.Hardware.Transport.Serial;
using Qkd.Protocol.Transport;

namespace Qkd.Node.Devices;

/// <summary>
/// Cables to emulated devices whose host end is the real host transport: in process, or a pseudo-terminal opened by
/// <see cref="SerialFrameTransport"/> (System.IO.Ports) exactly as a USB-serial device is.
/// </summary>
public static class EmulatedCable
{
    /// <summary>The baud rate of an emulated serial line (the pseudo-terminal ignores it; a real FTDI link runs at it).</summary>
    public const int SerialBaudRate = 3_000_000;

    public static EmulatedDeviceConnector Create(FirmwareHost firmware, EmulatedDeviceTransport transport = EmulatedDeviceTransport.InProcess) =>
        new(firmware, transport, OpenSerialPort);

    /// <summary>Opens the host end of a pseudo-terminal (or any serial device path) with the host's serial transport.</summary>
    public static IFrameTransport OpenSerialPort(string path) =>
        SerialFrameTransport.Open(new SerialPortOptions(path) { BaudRate = SerialBaudRate });
}
