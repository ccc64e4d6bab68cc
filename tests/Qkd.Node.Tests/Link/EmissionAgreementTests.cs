using Qkd.Distillation.Messages;
using Qkd.Node.Link;

namespace Qkd.Node.Tests.Link;

public class EmissionAgreementTests
{
    [Fact]
    public void The_same_settings_agree()
    {
        var settings = LinkSettings.Default;
        Assert.Null(EmissionAgreement.Mismatch(settings, EmissionAgreement.Announce(settings, 1_000_000)));
        Assert.Equal(new EmissionAnnouncement(1_000_000, 1e9, 1024, 250_000), EmissionAgreement.Announce(settings, 1_000_000));
        Assert.Equal(EmissionAgreement.PilotPulses, EmissionAgreement.Announce(settings, 1_000_000_000).PilotPulses);
    }

    [Fact]
    public void A_different_pulse_rate_or_sync_divider_is_refused_naming_both_ends()
    {
        var bob = LinkSettings.Default;
        string? rate = EmissionAgreement.Mismatch(bob, new EmissionAnnouncement(1000, 5e8, 1024));
        Assert.Equal("Alice's emission does not match Bob's link settings (pulse rate: Alice 500000000 pulses/s, Bob's pulseRateHz 1000000000 pulses/s): " +
            "set both ends to the same link settings", rate);
        string? both = EmissionAgreement.Mismatch(bob, new EmissionAnnouncement(1000, 5e8, 512));
        Assert.Contains("sync divider: Alice 512 pulses per sync, Bob's pulsesPerSync 1024", both);
        Assert.Contains("pulse rate: Alice 500000000 pulses/s", both);
    }
}
