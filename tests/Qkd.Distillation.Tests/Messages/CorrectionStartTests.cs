using CsCheck;
using Qkd.Distillation.Messages;
using Qkd.Distillation.Protocol;

namespace Qkd.Distillation.Tests.Messages;

public class CorrectionStartTests
{
    [Fact]
    public void Round_trips_and_refuses_every_truncation()
    {
        Gen.Select(Gen.Long[0, long.MaxValue], Gen.Int[0, int.MaxValue], Gen.Double).Sample((blockId, frames, qber) =>
        {
            var start = new CorrectionStart(blockId, frames, qber);
            byte[] message = start.Write(new ProtocolWriter()).ToArray();

            var back = CorrectionStart.Read(message);
            Assert.Equal(start, back);
            // Record equality calls -0.0 and 0.0 equal; the estimate must come back bit for bit.
            Assert.Equal(BitConverter.DoubleToInt64Bits(qber), BitConverter.DoubleToInt64Bits(back.QberEstimate));

            WireChecks.MalformedIsRejected(message, CorrectionStart.Type, m => CorrectionStart.Read(m));
        });
    }

    [Fact]
    public void Wire_format_is_pinned()
    {
        // Block 3, 10 frames, QBER 0.02 as an IEEE 754 double, little-endian (0x3F947AE147AE147B).
        Assert.Equal("05030A7B14AE47E17A943F", WireChecks.Hex(new CorrectionStart(3, 10, 0.02).Write(new ProtocolWriter())));
    }

    [Fact]
    public void A_frame_count_beyond_an_int_is_refused()
    {
        // 2^31 frames
        var e = Assert.Throws<ProtocolException>(() => CorrectionStart.Read(Convert.FromHexString("050380808080087B14AE47E17A943F")));
        Assert.Contains("Field 'frame count' is 2147483648, more than the allowed 2147483647", e.Message);
    }
}
