using CsCheck;
using Qkd.Distillation.Messages;
using Qkd.Distillation.Protocol;

namespace Qkd.Distillation.Tests.Messages;

public class VerificationRequestTests
{
    [Fact]
    public void Round_trips_and_refuses_every_truncation()
    {
        Gen.Select(Gen.Long[0, long.MaxValue], Gen.Long[0, long.MaxValue]).Sample((blockId, leaked) =>
        {
            var request = new VerificationRequest(blockId, leaked);
            byte[] message = request.Write(new ProtocolWriter()).ToArray();
            Assert.Equal(request, VerificationRequest.Read(message));
            WireChecks.MalformedIsRejected(message, VerificationRequest.Type, m => VerificationRequest.Read(m));
        });
    }

    [Fact]
    public void Wire_format_is_pinned()
    {
        // Block 3, 123,456 leaked bits as a varint (C0 C4 07).
        Assert.Equal("0903C0C407", WireChecks.Hex(new VerificationRequest(3, 123_456).Write(new ProtocolWriter())));
    }

    [Fact]
    public void A_varint_longer_than_64_bits_is_refused()
    {
        var e = Assert.Throws<ProtocolException>(() => VerificationRequest.Read(Convert.FromHexString("0903FFFFFFFFFFFFFFFFFFFF01")));
        Assert.Contains("Field 'leaked bits' is a varint longer than 64 bits", e.Message);
    }
}
