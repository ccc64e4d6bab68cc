using Qkd.Lab.Drill;

namespace Qkd.Hil;

/// <summary>
/// The "attack: detector blinding" scenario of the suite on the in-process target, on its own so it can be run alone
/// (`--filter-class "*BlindingScenarioTests*"`): its run through the tagger driver used to wait for tags until the
/// suite's 180 s (issue 15); it must end, with no key from any block.
/// </summary>
public sealed class BlindingScenarioTests
{
    [Fact(Timeout = 600_000)] // 12 s idle; minutes beside the whole suite on a loaded 2-core machine
    public async Task Detector_blinding_through_the_tagger_driver_ends_with_no_key()
    {
        var target = HilTargets.Find("inproc", out string? unavailable);
        if (target is null) Assert.Skip(unavailable!);
        var run = new HilRun(target, Path.Combine(Path.GetTempPath(), "qkd-hil-keys"));
        await new Scenarios.AttackOnTheChannel(DrillCatalogue.DetectorBlinding).RunAsync(run, TestContext.Current.CancellationToken);
    }
}
