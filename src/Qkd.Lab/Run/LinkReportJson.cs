using Qkd.Node.Devices;
using Qkd.Node.Link;
using System.Text.Json.Serialization;
using Qkd.Core;
using Qkd.Core.Json;
using Qkd.Emulation;

namespace Qkd.Lab.Run;

/// <summary>
/// The JSON of a run report (`--report report.json`): camelCase, indented, null fields written, enums as camelCase
/// names. Source-generated, so trimmed and Native AOT builds write reports without reflection. Every enum a report can
/// hold needs its converter here (a test walks the report's contract to check).
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    Converters = [typeof(CamelCaseEnumConverter<ReceiverLayout>), typeof(CamelCaseEnumConverter<EavesdropperKind>), typeof(EnumNameConverter<CoexistenceDirection>),
        typeof(CamelCaseEnumConverter<Qkd.Distillation.ErrorCorrection.ReconciliationMethod>)])]
[JsonSerializable(typeof(LinkReport))]
internal sealed partial class LinkReportJson : JsonSerializerContext;
