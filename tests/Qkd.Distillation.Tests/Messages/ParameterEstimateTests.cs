using CsCheck;
using Qkd.Distillation.Messages;
using Qkd.Distillation.Protocol;

namespace Qkd.Distillation.Tests.Messages;

public class ParameterEstimateTests
{
    [Fact]
    public void Round_trips_and_refuses_every_truncation()
    {
        Gen.Select(Gen.Long[0, long.MaxValue], Gen.Long[0, long.MaxValue].Array[3], Gen.Bool).Sample((blockId, errorsX, proceed) =>
        {
            byte[] message = new ParameterEstimate(blockId, errorsX, proceed).Write(new ProtocolWriter()).ToArray();

            var back = ParameterEstimate.Read(message);
            Assert.Equal(blockId, back.BlockId);
            Assert.Equal(errorsX, back.ErrorsX);
            Assert.Equal(proceed, back.Proceed);

            WireChecks.MalformedIsRejected(message, ParameterEstimate.Type, m => ParameterEstimate.Read(m));
        });
    }

    [Fact]
    public void Wire_format_is_pinned()
    {
        // Block 3; X errors 17, 200 (C8 01) and 1 for signal, decoy, vacuum; verdict 0 = go on.
        Assert.Equal("040311C8010100", WireChecks.Hex(new ParameterEstimate(3, [17, 200, 1], proceed: true).Write(new ProtocolWriter())));
        // The same counts with the abort verdict: only the last byte changes.
        Assert.Equal("040311C8010101", WireChecks.Hex(new ParameterEstimate(3, [17, 200, 1], proceed: false).Write(new ProtocolWriter())));
    }

    [Fact]
    public void A_verdict_other_than_0_or_1_is_refused()
    {
        var e = Assert.Throws<ProtocolException>(() => ParameterEstimate.Read(Convert.FromHexString("040311C8010102")));
        Assert.Contains("Field 'verdict' is 2; a flag is 0 or 1", e.Message);
    }

    [Fact]
    public void One_error_count_per_intensity_class_is_required()
    {
        Assert.Throws<ArgumentException>(() => new ParameterEstimate(3, [1, 2], true));
        Assert.Throws<ArgumentException>(() => new ParameterEstimate(3, [1, 2, 3, 4], true));
    }
}
