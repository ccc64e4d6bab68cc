using System.Text.Json;
using System.Text.Json.Serialization;

namespace Qkd.Lab;

/// <summary>
/// The JSON of the lab reports and of the delay configuration (see <see cref="LabReport"/>): web defaults (camelCase,
/// names matched case-insensitively when read), indented, null fields written, numbers also read from strings and
/// finite only: <see cref="FiniteNumberConverter"/> refuses to write NaN or infinity. Source-generated, so trimmed and Native AOT builds write reports without
/// reflection; a report type missing here fails at its first write with a message naming it (every report kind is
/// written by a test). The reports hold no enums (a basis is written as its name, a string).
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    NumberHandling = JsonNumberHandling.AllowReadingFromString,
    Converters = [typeof(FiniteNumberConverter)])]
[JsonSerializable(typeof(DelayCalibrationReport))]
[JsonSerializable(typeof(DelayConfiguration))]
[JsonSerializable(typeof(DetectorCalibrationReport))]
[JsonSerializable(typeof(SweepReports.GateReport))]
[JsonSerializable(typeof(SweepReports.AlignmentReport))]
[JsonSerializable(typeof(MonitorReport.Report), TypeInfoPropertyName = "MonitorReport")]
[JsonSerializable(typeof(TimeCorrelation.Report), TypeInfoPropertyName = "TimeCorrelationReport")]
[JsonSerializable(typeof(G2Correlation.Report), TypeInfoPropertyName = "G2CorrelationReport")]
internal sealed partial class LabJson : JsonSerializerContext;
