using Qkd.Acquisition.Loop;
using Qkd.Core.TimeTags;
using Qkd.Emulation;
using Qkd.Node.Devices;
using Qkd.Node.Link;

namespace Qkd.Node.Tests.Devices;

/// <summary>The rig's emission window (<see cref="LinkRig.StartEmission"/>) on the emulated devices.</summary>
public sealed class LinkRigEmissionTests
{
    private static List<TimeTag> Drain(ITimeTagSource source)
    {
        var all = new List<TimeTag>();
        var buffer = new TimeTag[4096];
        int n;
        while ((n = source.Read(buffer, TestContext.Current.CancellationToken)) > 0) all.AddRange(buffer.AsSpan(0, n));
        return all;
    }

    [Fact(Timeout = 120_000)]
    public void On_the_emulated_rig_the_emission_stream_holds_every_tag_the_tagger_sends()
    {
        // The emulated tagger ends its stream with its physics; the emission window must cut nothing off it. The lab
        // capture goes through the same window, so compare with the raw tagger stream of the same run instead.
        var profile = LinkProfile.Default.WithDistance(10);
        var settings = LinkSettings.Default;
        var wiring = EmulatedSetup.TaggerOptionsFor(settings, long.MaxValue);
        const long pulses = 3_000_000;
        List<TimeTag> Run(bool window)
        {
            using var rig = LinkRig.CreateEmulated(profile, wiring, 11);
            rig.Connect();
            rig.Configure(profile, settings, wiring.SyncChannel);
            var emission = rig.StartEmission(EmulatedSetup.AliceSymbols(settings, 11), pulses);
            var tags = Drain(window ? emission : rig.Tagger);
            emission.EmissionStopped.Wait(TestContext.Current.CancellationToken);
            if (window)
            {
                Assert.Equal(0, emission.TagsAfterEnd);
                Assert.Equal((pulses + wiring.SyncDivider - 1) / wiring.SyncDivider, emission.SyncsSeen);
                Assert.True(tags[^1].TimePs < emission.EndPs);
            }
            return tags;
        }

        var raw = Run(window: false);
        Assert.True(raw.Count > 10_000);
        Assert.Equal(raw, Run(window: true));
    }
}
