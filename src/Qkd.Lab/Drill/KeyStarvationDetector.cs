using Qkd.Lab.Run;

namespace Qkd.Lab.Drill;

/// <summary>
/// The key flow: an alarm when, after the attack's start, no block completes in more than twice the time the clean
/// part took per block (the light is gone or so weak that the sifted rate collapsed). Not a security check: it tells a
/// denial of service from an idle link.
/// </summary>
public sealed class KeyStarvationDetector : IDrillDetector
{
    public string Name => "key flow";

    public IReadOnlyList<DrillAlarm> Inspect(DrillObservation observation)
    {
        ArgumentNullException.ThrowIfNull(observation);
        var report = observation.Report;
        long onset = observation.OnsetPulse;
        var clean = report.Blocks.Where(b => b.LastPulse is long last && last < onset).ToList();
        if (clean.Count == 0 || clean[^1].LastPulse is not long lastClean) return [];
        double perBlock = observation.SecondsOf(lastClean + 1) / clean.Count;
        double attacked = report.LinkSeconds - observation.OnsetSeconds;
        bool anyAfter = report.Blocks.Any(b => DrillObservation.Touched(b, onset));
        if (anyAfter || report.Aborted || attacked <= 2 * perBlock) return [];
        return [new DrillAlarm(Name, "no blocks",
            $"no block completed in the {attacked:0.###} s after the attack started; the clean part completed one every {perBlock:0.###} s",
            observation.OnsetSeconds + 2 * perBlock, null)];
    }
}
