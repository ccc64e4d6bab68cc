using System.CommandLine;
using System.Globalization;
using Qkd.Lab.Run;

namespace Qkd.Cli.Commands;

/// <summary>
/// How every command that reads recordings treats a damaged one (truncated, corrupt or missing chunks): an error
/// naming the damage (the Lab layer's <see cref="DamagedRecordingException"/>, printed as any other bad input) unless
/// the user passes <c>--accept-damaged</c>; then a warning naming it, and the measurement over the time it covers.
/// </summary>
internal static class DamagedRecordings
{
    public const string OptionName = "--accept-damaged";

    public static Option<bool> CreateOption() => new(OptionName)
    {
        Description = "Use a truncated or damaged recording (no trailer, corrupt or missing chunks) anyway: rates and gains are taken over the " +
                      "time its intact tags cover, and the damage is reported. Without it such a file is refused.",
    };

    /// <summary>Prints one warning line for an accepted damaged recording; nothing for an intact one.</summary>
    public static void Warn(RecordingIntegrityReport? recording, TextWriter error)
    {
        if (recording is not { Intact: false } r) return;
        error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"warning: {r.File}: {r.Summary()}; damage accepted, measuring over the {r.CoveredSeconds:G4} s it covers"));
    }
}
