using CsCheck;
using Qkd.Distillation.Messages;
using Qkd.Distillation.Protocol;

namespace Qkd.Distillation.Tests.Messages;

public class EmissionAnnouncementTests
{
    private static readonly Gen<double> PositiveRate = Gen.Double[1e-3, 1e13];

    [Fact]
    public void Round_trips_and_refuses_every_truncation()
    {
        Gen.Select(Gen.Long[1, EmissionAnnouncement.MaximumPulses], PositiveRate, Gen.Int[1, int.MaxValue], Gen.Long[0, EmissionAnnouncement.MaximumPilotPulses]).Sample((pulses, rate, perSync, pilot) =>
        {
            var announcement = new EmissionAnnouncement(pulses, rate, perSync, Math.Min(pilot, pulses - 1));
            byte[] message = announcement.Write(new ProtocolWriter()).ToArray();
            Assert.Equal(announcement, EmissionAnnouncement.Read(message));
            WireChecks.MalformedIsRejected(message, EmissionAnnouncement.Type, m => EmissionAnnouncement.Read(m));
        });
    }

    [Fact]
    public void Wire_format_is_pinned()
    {
        // 1000 pulses (E8 07), 1e9 pulses/s as a little-endian double (00 00 00 00 65 CD CD 41), 1024 per sync (80 08),
        // a pilot of 200 pulses (C8 01).
        Assert.Equal("0FE807" + "0000000065CDCD41" + "8008" + "C801", WireChecks.Hex(new EmissionAnnouncement(1000, 1e9, 1024, 200).Write(new ProtocolWriter())));
    }

    [Theory]
    [InlineData("0F00" + "0000000065CDCD41" + "8008" + "00", "0 pulses is outside [1, ")]
    [InlineData("0FE807" + "0000000000000000" + "8008" + "00", "is not a positive finite number")]
    [InlineData("0FE807" + "000000000000F87F" + "8008" + "00", "is not a positive finite number")]
    [InlineData("0FE807" + "000000000000F07F" + "8008" + "00", "is not a positive finite number")]
    [InlineData("0FE807" + "0000000065CDCD41" + "00" + "00", "0 pulses per sync is less than 1")]
    [InlineData("0FE807" + "0000000065CDCD41" + "8008" + "E807", "a pilot of 1000 pulses is outside")]
    public void Fields_out_of_range_are_refused(string hex, string reason)
    {
        var e = Assert.Throws<ProtocolException>(() => EmissionAnnouncement.Read(Convert.FromHexString(hex)));
        Assert.StartsWith("Emission announcement:", e.Message);
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void An_announcement_the_reader_would_refuse_is_not_written()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new EmissionAnnouncement(0, 1e9, 1024).Write(new ProtocolWriter()));
        Assert.Throws<ArgumentOutOfRangeException>(() => new EmissionAnnouncement(10, double.NaN, 1024).Write(new ProtocolWriter()));
        Assert.Throws<ArgumentOutOfRangeException>(() => new EmissionAnnouncement(10, 1e9, 0).Write(new ProtocolWriter()));
        Assert.Throws<ArgumentOutOfRangeException>(() => new EmissionAnnouncement(10, 1e9, 1024, 10).Write(new ProtocolWriter()));
    }
}
