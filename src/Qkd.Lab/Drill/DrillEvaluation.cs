using Qkd.Emulation;
using Qkd.Lab.Run;

namespace Qkd.Lab.Drill;

/// <summary>Turns one attacked run and the alarms of every detection source into the drill's verdict for that attack.</summary>
public static class DrillEvaluation
{
    public static DrillAttackResult Evaluate(DrillAttack attack, DrillObservation observation, IReadOnlyList<IDrillDetector> detectors)
    {
        ArgumentNullException.ThrowIfNull(attack);
        ArgumentNullException.ThrowIfNull(observation);
        ArgumentNullException.ThrowIfNull(detectors);
        var report = observation.Report;
        double onset = observation.OnsetSeconds;
        long onsetPulse = observation.OnsetPulse;
        var alarms = detectors.SelectMany(d => d.Inspect(observation)).OrderBy(a => a.LinkSeconds).ToList();
        var after = alarms.Where(a => a.LinkSeconds >= onset).ToList();
        var before = alarms.Where(a => a.LinkSeconds < onset).ToList();
        DrillAlarm? first = after.FirstOrDefault();

        var blocks = report.Blocks;
        var clean = blocks.Where(b => !DrillObservation.Touched(b, onsetPulse)).ToList();
        var touched = blocks.Where(b => DrillObservation.Touched(b, onsetPulse)).ToList();
        long secretWhile = touched.Sum(b => b.SecretBits);
        long secretAttacked = blocks.Where(b => DrillObservation.WhollyAttacked(b, onsetPulse)).Sum(b => b.SecretBits);
        int? afterBlocks = first is null ? null : first.BlockId is long id ? touched.Count(b => b.BlockId <= id) : touched.Count;

        // A node holds key from the block that raised an alarm threatening security on (its monitor's key hold): key of
        // attacked blocks from there on would have been withheld at both ends. The drill's runs do not hold key, so the
        // release is counted here. A distiller verdict aborts the run itself, so nothing after it was made anyway.
        long? holdFrom = after.Where(a => a.HoldsKey && a.BlockId is not null).Select(a => a.BlockId).Min();
        long secretReleased = blocks.Where(b => DrillObservation.WhollyAttacked(b, onsetPulse) && (holdFrom is null || b.BlockId < holdFrom))
            .Sum(b => b.SecretBits);
        long secretReleasedWhile = touched.Where(b => holdFrom is null || b.BlockId < holdFrom).Sum(b => b.SecretBits);

        bool detected = first is not null;
        bool caught = detected && (secretReleased == 0 || !attack.ThreatensSecrecy);
        string bound = Bound(attack, secretWhile, secretAttacked, secretReleasedWhile, secretReleased, holdFrom is not null);
        string verdict = detected
            ? caught
                ? $"caught by the {first!.Detector} ({first.Check}) {After(afterBlocks, first.LinkSeconds - onset)}"
                : $"detected by the {first!.Detector} ({first.Check}), but only after {secretReleased} secret bits came from attacked blocks"
            : attack.Spec.Kind switch
            {
                EavesdropperKind.FibreTap => "not detected by the distiller: the finite-key analysis sees the lower gains and shortens the key; a loss monitor must raise it",
                EavesdropperKind.TimeShift => "NOT DETECTED by the distiller: no extra errors; a monitor of detector balance and arrival times must raise it",
                _ => "NOT DETECTED",
            };

        return new DrillAttackResult
        {
            Attack = attack.Name,
            Spec = attack.StartingAt(onset).ToString(),
            Physics = attack.Physics,
            ThreatensSecrecy = attack.ThreatensSecrecy,
            OnsetSeconds = onset,
            LinkSeconds = report.LinkSeconds,
            Detected = detected,
            DetectedBy = first?.Detector,
            Check = first?.Check,
            Detail = first?.Detail,
            AfterBlocks = afterBlocks,
            AfterSeconds = first is null ? null : Math.Max(0, first.LinkSeconds - onset),
            BlocksBeforeAttack = clean.Count,
            BlocksTouchedByAttack = touched.Count,
            SecretBitsWhileAttacked = secretWhile,
            SecretBitsFromAttackedBlocks = secretAttacked,
            SecretBitsReleasedFromAttackedBlocks = secretReleased,
            SecretBitsBound = bound,
            QberZBefore = Qber(clean),
            QberZDuring = Qber(touched),
            Alarms = after.Select(Describe).ToList(),
            FalseAlarms = before.Select(Describe).ToList(),
            Caught = caught,
            Verdict = verdict,
        };
    }

    private static string After(int? blocks, double seconds) =>
        blocks is int n && n > 0 ? $"in the {Ordinal(n)} block holding attacked pulses, {seconds:0.###} s of light after the start" : $"{seconds:0.###} s after the start";

    private static string Ordinal(int n) => n switch { 1 => "first", 2 => "second", 3 => "third", _ => $"{n}th" };

    private static string Bound(DrillAttack attack, long whileAttacked, long fromAttacked, long releasedWhile, long released, bool held)
    {
        string straddling = whileAttacked > fromAttacked
            ? attack.Spec.Kind == EavesdropperKind.TimeShift
                ? $"; {whileAttacked - fromAttacked} bits came from a block straddling the start, released before any alarm: not covered either (the mismatch leaves no errors to count)"
                : $"; {whileAttacked - fromAttacked} bits came from a block straddling the start, whose own phase-error bound counted the attacked pulses' errors"
            : "";
        if (held && attack.ThreatensSecrecy && fromAttacked > 0)
            return $"{fromAttacked} bits of attacked blocks were made, {released} of them before the link monitor's alarm; a node's key hold withholds the rest at both ends" + straddling;
        return attack.Spec.Kind switch
        {
            EavesdropperKind.FibreTap =>
                $"{whileAttacked} bits under the tap, covered by the proof: the decoy-state and finite-key analysis used the measured (lower) gains",
            EavesdropperKind.DenialOfService => $"{whileAttacked} bits: no light, no key" + straddling,
            EavesdropperKind.TimeShift when fromAttacked > 0 =>
                $"{fromAttacked} bits from attacked blocks are NOT covered: detector efficiency mismatch breaks the proof's assumption of basis-independent detection" + straddling,
            _ when fromAttacked > 0 => $"{fromAttacked} bits from attacked blocks: the proof's phase-error bound covers them only if parameter estimation saw the attack" + straddling,
            _ => "0 required, 0 produced from attacked blocks" + straddling,
        };
    }

    private static double? Qber(IReadOnlyList<BlockReport> blocks)
    {
        var corrected = blocks.Where(b => b.QberZ is not null && b.SiftedZ > 0).ToList();
        long bits = corrected.Sum(b => b.SiftedZ);
        return bits == 0 ? null : corrected.Sum(b => b.QberZ!.Value * b.SiftedZ) / bits;
    }

    private static string Describe(DrillAlarm alarm) =>
        $"{alarm.Detector}: {alarm.Check}" + (alarm.BlockId is long id ? $" (block {id}, {alarm.LinkSeconds:0.###} s)" : $" ({alarm.LinkSeconds:0.###} s)") + $": {alarm.Detail}";
}
