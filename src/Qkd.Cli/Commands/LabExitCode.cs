using System.Globalization;
using Qkd.Calibration;

namespace Qkd.Cli.Commands;

/// <summary>
/// Exit codes of the lab commands (`qkd calibrate ...`, `qkd histogram`, `qkd correlate`): 0 measured, 1 an error
/// (bad option, unreadable file, device), <see cref="InsufficientData"/> refused because the data cannot support the
/// fit (distinct from every `qkd alice|bob` code, so a script can tell "capture longer" from "fix something").
/// </summary>
public static class LabExitCode
{
    public const int Measured = 0;

    public const int Failed = 1;

    /// <summary>Refused: too little data for a fit or estimate (<see cref="InsufficientDataException"/>); nothing was written.</summary>
    public const int InsufficientData = 6;

    /// <summary>
    /// The one line for a refusal: every short quantity with what it had and needs, and, when the capture's pulse count
    /// is known (emulator or bench), the <c>--pulses</c> that would meet every minimum.
    /// </summary>
    public static string Refusal(InsufficientDataException refusal, long? pulses)
    {
        ArgumentNullException.ThrowIfNull(refusal);
        string line = $"refused: {refusal.Message}";
        double factor = refusal.MoreFactor;
        if (pulses is long p && double.IsFinite(factor) && factor * p < 1e15)
            line += string.Create(CultureInfo.InvariantCulture, $"; try --pulses {Math.Ceiling(p * factor * 1.2 / 1e6) * 1e6:0}");
        else if (pulses is not null)
            line += "; capture with light reaching the detectors, or check the channels";
        else
            line += "; record a longer capture";
        return line;
    }
}
