using CsCheck;
using Qkd.Distillation.Messages;
using Qkd.Distillation.Protocol;

namespace Qkd.Distillation.Tests.Messages;

public class VerificationResultTests
{
    [Fact]
    public void Round_trips_and_refuses_every_truncation()
    {
        Gen.Select(Gen.Long[0, long.MaxValue], Gen.Bool).Sample((blockId, match) =>
        {
            var result = new VerificationResult(blockId, match);
            byte[] message = result.Write(new ProtocolWriter()).ToArray();
            Assert.Equal(result, VerificationResult.Read(message));
            WireChecks.MalformedIsRejected(message, VerificationResult.Type, m => VerificationResult.Read(m));
        });
    }

    [Fact]
    public void Wire_format_is_pinned()
    {
        Assert.Equal("0B0301", WireChecks.Hex(new VerificationResult(3, Match: true).Write(new ProtocolWriter())));
        Assert.Equal("0B0300", WireChecks.Hex(new VerificationResult(3, Match: false).Write(new ProtocolWriter())));
    }

    [Fact]
    public void A_flag_other_than_0_or_1_is_refused()
    {
        var e = Assert.Throws<ProtocolException>(() => VerificationResult.Read(Convert.FromHexString("0B03FF")));
        Assert.Contains("Field 'match' is 255; a flag is 0 or 1", e.Message);
    }
}
