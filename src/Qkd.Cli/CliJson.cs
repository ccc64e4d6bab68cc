using System.Text.Json.Serialization;
using Qkd.Cli.Commands;

namespace Qkd.Cli;

/// <summary>
/// The JSON the `qkd` commands print themselves (`keys status --json`, `devices --json`): camelCase, indented.
/// Source-generated, so the trimmed and Native AOT builds of `qkd` print it without reflection. Configs, benches,
/// profiles and reports have their own contexts in the libraries that own them.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(KeyPoolStatus))]
[JsonSerializable(typeof(IReadOnlyList<DiscoveredDeviceListing>))]
internal sealed partial class CliJson : JsonSerializerContext;
