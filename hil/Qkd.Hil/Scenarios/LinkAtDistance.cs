using Qkd.Emulation;

namespace Qkd.Hil.Scenarios;

/// <summary>A plain link at a given fibre length: keys identical, QBER as the physics says, nothing lost.</summary>
public sealed class LinkAtDistance(double km) : HilScenario
{
    public override string Name => $"link at {km:0} km";

    public override LinkProfile Profile(HilTarget target) => target.LinkProfile().WithDistance(km);

    public override async Task RunAsync(HilRun run, CancellationToken cancellationToken)
    {
        var profile = Profile(run.Target);
        var (report, rig) = await run.RunLinkAsync(profile, seed: 11, cancellationToken: cancellationToken);
        using (rig)
        {
            // Short links make key; at 50 km the target's run is too short for a full block, but everything else holds.
            LinkChecks.Healthy(report, run.Target, rig, expectedQberZ: 0.02, keyExpected: km <= 25);
            Assert.Equal(0, rig.Tagger.Counters["rx.framesRejected"]);
            Assert.Equal(0, rig.Tagger.Counters["stream.framesLost"]);
        }
    }
}
