using CsCheck;
using Qkd.Distillation.Messages;
using Qkd.Distillation.Protocol;

namespace Qkd.Distillation.Tests.Messages;

public class PilotMessagesTests
{
    [Fact]
    public void A_disclosure_round_trips_into_a_buffer_of_the_pilots_length_and_refuses_every_truncation()
    {
        Gen.Byte[0, 3].Array[1, 300].Sample(symbols =>
        {
            byte[] message = new PilotDisclosure(symbols).Write(new ProtocolWriter()).ToArray();
            var read = PilotDisclosure.Read(message, new byte[symbols.Length]);
            Assert.Equal(symbols, read.Symbols.ToArray());
            WireChecks.MalformedIsRejected(message, PilotDisclosure.Type, m => PilotDisclosure.Read(m, new byte[symbols.Length]));
        });
    }

    [Fact]
    public void A_disclosure_of_another_length_than_the_announced_pilot_is_refused()
    {
        byte[] message = new PilotDisclosure(new byte[] { 0, 1, 2, 3, 3 }).Write(new ProtocolWriter()).ToArray();
        var shorter = Assert.Throws<ProtocolException>(() => PilotDisclosure.Read(message, new byte[6]));
        Assert.Equal("Pilot disclosure holds 5 pulses; the announced pilot has 6.", shorter.Message);
        Assert.Throws<ProtocolException>(() => PilotDisclosure.Read(message, new byte[4]));
    }

    [Fact]
    public void Wire_format_is_pinned()
    {
        // Five pulses, two bits each from bit 0: 0, 1, 2, 3 in the first byte (11 10 01 00 = E4), 3 in the second.
        Assert.Equal("1205E403", WireChecks.Hex(new PilotDisclosure(new byte[] { 0, 1, 2, 3, 3 }).Write(new ProtocolWriter())));
        Assert.Equal("11", WireChecks.Hex(new PilotRequest().Write(new ProtocolWriter())));
    }

    [Fact]
    public void A_request_refuses_trailing_bytes_and_other_types()
    {
        byte[] message = new PilotRequest().Write(new ProtocolWriter()).ToArray();
        Assert.Equal(default, PilotRequest.Read(message));
        WireChecks.MalformedIsRejected(message, PilotRequest.Type, m => PilotRequest.Read(m));
    }

    [Fact]
    public void A_symbol_that_is_not_basis_and_bit_is_not_sent() =>
        Assert.Throws<ArgumentException>(() => new PilotDisclosure(new byte[] { 0, 4 }));
}
