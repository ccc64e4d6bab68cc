using System.Text;
using CsCheck;
using Qkd.Distillation.Messages;
using Qkd.Distillation.Protocol;

namespace Qkd.Distillation.Tests.Messages;

public class GoodbyeTests
{
    [Fact]
    public void Round_trips_and_refuses_every_truncation()
    {
        // Any text that survives UTF-8 (lone surrogates do not, by design of the encoding), up to the limit.
        Gen.String.Where(s => Encoding.UTF8.GetByteCount(s) <= Goodbye.MaximumReasonBytes && Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(s)) == s).Sample(reason =>
        {
            var goodbye = new Goodbye(reason);
            byte[] message = goodbye.Write(new ProtocolWriter()).ToArray();
            Assert.Equal(goodbye, Goodbye.Read(message));
            WireChecks.MalformedIsRejected(message, Goodbye.Type, m => Goodbye.Read(m));
        });
    }

    [Fact]
    public void Wire_format_is_pinned()
    {
        // The reason's UTF-8 byte length (14), then its bytes.
        Assert.Equal("0E0E656E64206F662073657373696F6E", WireChecks.Hex(new Goodbye("end of session").Write(new ProtocolWriter())));
        // Lengths count bytes, not characters: "ö" is C3 B6.
        Assert.Equal("0E03" + "6DC3B6", WireChecks.Hex(new Goodbye("mö").Write(new ProtocolWriter())));
    }

    [Fact]
    public void A_reason_longer_than_the_limit_is_refused()
    {
        var e = Assert.Throws<ProtocolException>(() => Goodbye.Read(new Goodbye(new string('x', Goodbye.MaximumReasonBytes + 1)).Write(new ProtocolWriter()).Span));
        Assert.Contains("Field 'reason length' is 4097, more than the allowed 4096", e.Message);
    }
}
