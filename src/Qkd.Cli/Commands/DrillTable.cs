using System.Globalization;
using Qkd.Lab.Drill;

namespace Qkd.Cli.Commands;

/// <summary>The drill's table for the operator: one row per attack, then what each found in words.</summary>
internal static class DrillTable
{
    public static void Print(DrillReport report, TextWriter output)
    {
        var c = CultureInfo.InvariantCulture;
        output.WriteLine(string.Create(c, $"Breach drill ({report.DistanceKm} km, attack from {report.OnsetSeconds} s of {report.LinkSecondsPerAttack} s, blocks of {report.BlockSizeBits:N0} bits)"));
        output.WriteLine($"  {"attack",-26} {"detected",-8} {"by",-10} {"check",-20} {"after",-16} {"secret bits (attacked blocks / while on)",-42} caught");
        foreach (var a in report.Attacks)
        {
            string after = a.AfterSeconds is double s ? string.Create(c, $"{a.AfterBlocks ?? 0} blk, {s:0.###} s") : "-";
            output.WriteLine(string.Create(c,
                $"  {a.Attack,-26} {(a.Detected ? "yes" : "no"),-8} {a.DetectedBy ?? "-",-10} {a.Check ?? "-",-20} {after,-16} {$"{a.SecretBitsFromAttackedBlocks:N0} / {a.SecretBitsWhileAttacked:N0}",-42} {(a.Caught ? "yes" : "NO")}"));
        }
        output.WriteLine();
        foreach (var a in report.Attacks)
        {
            output.WriteLine($"  {a.Attack} ({a.Spec}): {a.Physics}");
            output.WriteLine($"    {a.Verdict}; secret bits: {a.SecretBitsBound}");
            foreach (string alarm in a.Alarms) output.WriteLine($"    alarm: {alarm}");
            foreach (string alarm in a.FalseAlarms) output.WriteLine($"    false alarm before the attack: {alarm}");
        }
        if (report.InterceptResendSearch.Count > 0)
            output.WriteLine("  intercept-resend search: " + string.Join(", ", report.InterceptResendSearch.Select(s =>
                string.Create(c, $"{s.Fraction:0.####} {(s.Detected ? "caught" : "missed")}"))) +
                (report.SmallestDetectedInterceptFraction is double f ? string.Create(c, $"; smallest fraction caught {f:0.####}") : "; none caught"));
        output.WriteLine(report.AllCaught ? "  every attack caught" : $"  NOT caught: {string.Join(", ", report.NotCaught)}");
        if (report.Warning is string w) output.WriteLine($"  WARNING {w}");
    }
}
