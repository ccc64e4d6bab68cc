using Qkd.Protocol.Transport;
using Qkd.Hardware.Transport.Serial;

namespace Qkd.Hardware.Devices;

/// <summary>A device on a serial port (a USB CDC-ACM adapter, a pty): reconnecting reopens the same path.</summary>
public sealed class SerialDeviceConnector(SerialPortOptions options) : IDeviceConnector
{
    public SerialPortOptions Options { get; } = options ?? throw new ArgumentNullException(nameof(options));

    public string Description => Options.PortName;

    public IFrameTransport Connect() => SerialFrameTransport.Open(Options);
}
