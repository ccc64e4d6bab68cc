namespace Qkd.Hil.Scenarios;

/// <summary>
/// Frames from the tagger are corrupted on the line mid-run: each fails its CRC and is counted, the lost tag frames show
/// as marked gaps, nothing corrupted is used as data, and the keys still agree.
/// </summary>
public sealed class CrcErrorsOnLine : HilScenario
{
    private const int Corrupted = 4;

    public override string Name => "CRC errors on the line";

    public override Fault? Needs => Fault.LineCorruption;

    public override async Task RunAsync(HilRun run, CancellationToken cancellationToken)
    {
        var (report, rig) = await run.RunLinkAsync(Profile(run.Target), seed: 15, (_, faults) => faults.CorruptTaggerLine(Corrupted), at: 0.3, cancellationToken);
        using (rig)
        {
            var tagger = rig.Tagger.Counters;
            Assert.Equal(Corrupted, tagger["rx.crcMismatch"] + tagger["rx.badEncoding"]);
            Assert.Equal(Corrupted, tagger["rx.framesRejected"]);
            Assert.InRange(tagger["stream.framesLost"], 1, Corrupted);
            Assert.True(tagger["stream.gapsMarked"] >= 1);
            LinkChecks.Healthy(report, run.Target, rig, expectedQberZ: 0.02, keyExpected: true);
        }
    }
}
