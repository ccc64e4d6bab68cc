using Qkd.Hardware.Transport.Serial;
using Qkd.Protocol.Transport;

namespace Qkd.Hardware.Tests.Support;

/// <summary>The host end of an emulated device's pseudo-terminal, opened by the real serial transport.</summary>
internal static class SerialPorts
{
    public static IFrameTransport Open(string path) => SerialFrameTransport.Open(new SerialPortOptions(path) { BaudRate = 3_000_000 });
}
