using Qkd.Protocol;
namespace Qkd.Hardware.Tests;

public class DeviceExceptionTests
{
    [Fact]
    public void Message_names_device_operation_and_cause()
    {
        var e = new DeviceTimeoutException("detector SPD-7", "read temperature", TimeSpan.FromMilliseconds(250));
        Assert.Equal("detector SPD-7: read temperature failed: no reply within 250 ms", e.Message);
        Assert.Equal("detector SPD-7", e.Device);
        Assert.Equal("read temperature", e.Operation);
        Assert.IsAssignableFrom<DeviceException>(e);
    }

    [Fact]
    public void Disconnect_keeps_the_underlying_cause()
    {
        var io = new IOException("port closed");
        var e = new DeviceDisconnectedException("time tagger TT-1", "stream tags", io);
        Assert.Same(io, e.InnerException);
        Assert.Contains("disconnected", e.Message);
    }
}
