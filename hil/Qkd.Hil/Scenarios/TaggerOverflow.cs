namespace Qkd.Hil.Scenarios;

/// <summary>
/// The tagger's FIFO overflows mid-run: the lost tags are reported in band and by event with their exact count, clock
/// recovery bridges the gap, and the link still yields identical keys.
/// </summary>
public sealed class TaggerOverflow : HilScenario
{
    private const long LostTags = 5_000;

    public override string Name => "time-tagger overflow";

    public override Fault? Needs => Fault.TaggerOverflow;

    public override async Task RunAsync(HilRun run, CancellationToken cancellationToken)
    {
        var (report, rig) = await run.RunLinkAsync(Profile(run.Target), seed: 13, (_, faults) => faults.OverflowTagger(LostTags), at: 0.3, cancellationToken);
        using (rig)
        {
            Assert.Equal(1, report.Receiver.Acquisition!.Overflows);
            Assert.Equal(LostTags, report.Receiver.Acquisition.MissedEvents);
            Assert.Equal(LostTags, report.Receiver.ClockRecovery!["overflowMissedEvents"]);
            Assert.True(SpinWait.SpinUntil(() => rig.Tagger.Counters["stream.overflowTagsLost"] == LostTags, TimeSpan.FromSeconds(5)));
            LinkChecks.Healthy(report, run.Target, rig, expectedQberZ: 0.02, keyExpected: true);
        }
    }
}
