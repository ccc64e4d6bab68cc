using System.Globalization;

namespace Qkd.Lab.Run;

/// <summary>
/// A recording that is truncated, has corrupt chunks or chunks missing, and the user did not accept the damage: a
/// replay would otherwise pass a part of the recording off as the whole (its claimed length, its full gain). An
/// <see cref="IOException"/> like the file-format errors, so every command that reads recordings reports it as one.
/// </summary>
public sealed class DamagedRecordingException(RecordingIntegrityReport report) : IOException(
    string.Create(CultureInfo.InvariantCulture,
        $"{report.File}: {report.Summary()}. Pass --accept-damaged to use the {report.CoveredSeconds:G4} s it covers."))
{
    public RecordingIntegrityReport Report { get; } = report;
}
