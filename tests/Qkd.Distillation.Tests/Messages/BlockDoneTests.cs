using CsCheck;
using Qkd.Distillation.Messages;
using Qkd.Distillation.Protocol;

namespace Qkd.Distillation.Tests.Messages;

public class BlockDoneTests
{
    [Fact]
    public void Round_trips_and_refuses_every_truncation()
    {
        Gen.Select(Gen.Long[0, long.MaxValue], Gen.Bool).Sample((blockId, stored) =>
        {
            var done = new BlockDone(blockId, stored);
            byte[] message = done.Write(new ProtocolWriter()).ToArray();
            Assert.Equal(done, BlockDone.Read(message));
            WireChecks.MalformedIsRejected(message, BlockDone.Type, m => BlockDone.Read(m));
        });
    }

    [Fact]
    public void Wire_format_is_pinned()
    {
        Assert.Equal("0D0301", WireChecks.Hex(new BlockDone(3, Stored: true).Write(new ProtocolWriter())));
        // Block 300 (AC 02), discarded.
        Assert.Equal("0DAC0200", WireChecks.Hex(new BlockDone(300, Stored: false).Write(new ProtocolWriter())));
    }

    [Fact]
    public void A_flag_other_than_0_or_1_is_refused()
    {
        var e = Assert.Throws<ProtocolException>(() => BlockDone.Read(Convert.FromHexString("0D0302")));
        Assert.Contains("Field 'stored' is 2; a flag is 0 or 1", e.Message);
    }
}
