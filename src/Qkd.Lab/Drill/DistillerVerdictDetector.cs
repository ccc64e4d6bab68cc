using Qkd.Lab.Run;

namespace Qkd.Lab.Drill;

/// <summary>
/// The distiller's own checks, as its block verdicts: a block aborted (QBER above the threshold, the decoy-state
/// bounds certifying no single photons, the phase-error bound, no X-basis data, a verification mismatch) or a full
/// block whose finite-key length came out zero after earlier blocks had made key (the key rate fell to nothing). Each is an alarm named by its reason.
/// </summary>
public sealed class DistillerVerdictDetector : IDrillDetector
{
    public string Name => "distiller";

    public IReadOnlyList<DrillAlarm> Inspect(DrillObservation observation)
    {
        ArgumentNullException.ThrowIfNull(observation);
        var alarms = new List<DrillAlarm>();
        long blockSize = observation.Report.Settings.BlockSizeBits;
        bool keyBefore = false;
        foreach (BlockReport block in observation.Report.Blocks)
        {
            bool aborted = block.Outcome == "Aborted";
            // A final partial block is short by design; only a full block with no key says something about the channel,
            // and only once the link had made key with blocks of that size (a link too lossy for its blocks raises nothing).
            bool noKey = block.Outcome == "NoKey" && block.SiftedZ >= blockSize && keyBefore;
            keyBefore |= block.SecretBits > 0;
            if (!aborted && !noKey) continue;
            string reason = block.Reason ?? block.Outcome;
            double at = block.LastPulse is long last ? observation.SecondsOf(last) : observation.Report.LinkSeconds;
            alarms.Add(new DrillAlarm(Name, Check(reason, aborted), reason, at, block.BlockId));
        }
        if (observation.Report.Aborted && alarms.Count == 0 && observation.Report.Reason is string runReason)
            alarms.Add(new DrillAlarm(Name, "link aborted", runReason, observation.Report.LinkSeconds, null));
        return alarms;
    }

    /// <summary>The check a verdict's reason names, short.</summary>
    public static string Check(string reason, bool aborted)
    {
        ArgumentNullException.ThrowIfNull(reason);
        if (reason.Contains("QBER", StringComparison.OrdinalIgnoreCase)) return "QBER threshold";
        if (reason.Contains("phase error", StringComparison.OrdinalIgnoreCase)) return "phase-error bound";
        if (reason.Contains("decoy", StringComparison.OrdinalIgnoreCase) || reason.Contains("single-photon", StringComparison.OrdinalIgnoreCase)) return "decoy-state bound";
        if (reason.Contains("verification", StringComparison.OrdinalIgnoreCase)) return "verification";
        if (reason.Contains("X-basis", StringComparison.OrdinalIgnoreCase)) return "no X-basis data";
        if (reason.Contains("finite-key length is zero", StringComparison.OrdinalIgnoreCase)) return "key length 0";
        return aborted ? "block aborted" : "no key";
    }
}
