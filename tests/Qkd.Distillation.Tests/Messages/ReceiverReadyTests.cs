using Qkd.Distillation.Messages;
using Qkd.Distillation.Protocol;

namespace Qkd.Distillation.Tests.Messages;

public class ReceiverReadyTests
{
    [Fact]
    public void Round_trips_and_refuses_trailing_bytes_and_other_types()
    {
        byte[] message = new ReceiverReady().Write(new ProtocolWriter()).ToArray();
        Assert.Equal(default, ReceiverReady.Read(message));
        WireChecks.MalformedIsRejected(message, ReceiverReady.Type, m => ReceiverReady.Read(m));
    }

    [Fact]
    public void Wire_format_is_pinned() => Assert.Equal("10", WireChecks.Hex(new ReceiverReady().Write(new ProtocolWriter())));
}
