namespace Qkd.Lab.Drill;

/// <summary>
/// A source of detections for the drill: looks at one attacked run and says whether, how and when it noticed the
/// attack. Today's sources are the distiller's own block verdicts (<see cref="DistillerVerdictDetector"/>) and the
/// key flow (<see cref="KeyStarvationDetector"/>) and the link monitor (<see cref="LinkMonitorDetector"/>).
/// </summary>
public interface IDrillDetector
{
    /// <summary>Name in the table and the report ("distiller").</summary>
    string Name { get; }

    /// <summary>Everything this source raised during the run, before and after the attack's start, in time order.</summary>
    IReadOnlyList<DrillAlarm> Inspect(DrillObservation observation);
}

/// <summary>One alarm of a detection source.</summary>
/// <param name="Detector">The source's <see cref="IDrillDetector.Name"/>.</param>
/// <param name="Check">Which check fired, short ("QBER threshold", "decoy-state bound", "key length 0").</param>
/// <param name="Detail">What it said, in words (the abort reason).</param>
/// <param name="LinkSeconds">Link time of the light that raised it (a block's last pulse), seconds.</param>
/// <param name="BlockId">The block that raised it, when a block did.</param>
/// <param name="HoldsKey">True when a node holds key while it is raised, from <paramref name="BlockId"/> on (a link monitor
/// alarm that threatens security).</param>
public sealed record DrillAlarm(string Detector, string Check, string Detail, double LinkSeconds, long? BlockId, bool HoldsKey = false);
