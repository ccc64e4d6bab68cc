using Qkd.Hardware.Peripherals;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Qkd.Core.Json;
using Qkd.Kme.Delivery;
using Qkd.Node.Devices;

namespace Qkd.Node.Service;

/// <summary>
/// The JSON of the files an operator writes: node configs (<see cref="NodeConfig"/>) and device benches
/// (<see cref="DeviceBench"/>, alone or as a config's "devices" section). Strict when reading (camelCase, an unknown
/// field is an error, comments and trailing commas allowed); indented without null fields when writing (`qkd node init`,
/// `qkd emulate --link-bench`). Source-generated, so trimmed and Native AOT builds need no reflection-based serializer.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    ReadCommentHandling = JsonCommentHandling.Skip,
    AllowTrailingCommas = true,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(NodeConfig))]
[JsonSerializable(typeof(DeviceBench))]
internal sealed partial class NodeJson : JsonSerializerContext
{
    // Fields a file leaves out keep the values their records declare (see InitOnlyDefaults). Built on first use, not in
    // a static initialiser: the generated part's Default may not be set yet when this part's initialisers run. Inside
    // the context the type names are its generated properties' names too: name the types in full.
    private static JsonSerializerOptions ReadOptions => s_readOptions ??= new JsonSerializerOptions(Default.Options)
    {
        TypeInfoResolver = Default
            .WithAddedModifier(InitOnlyDefaults.For<Service.NodeConfig>())
            .WithAddedModifier(InitOnlyDefaults.For<Monitoring.MonitorOptions>())
            .WithAddedModifier(InitOnlyDefaults.For<Kme.Delivery.KeyDeliveryOptions>())
            .WithAddedModifier(InitOnlyDefaults.For<Devices.DeviceBench>())
            .WithAddedModifier(InitOnlyDefaults.For<Devices.DeviceAddress>())
            .WithAddedModifier(InitOnlyDefaults.For<Hardware.Peripherals.PeripheralsConfig>())
            .WithAddedModifier(InitOnlyDefaults.For<Hardware.Peripherals.BiasDacConfig>())
            .WithAddedModifier(InitOnlyDefaults.For<Hardware.Peripherals.TemperatureSensorConfig>())
            .WithAddedModifier(InitOnlyDefaults.For<Hardware.Peripherals.MonitorAdcConfig>())
            .WithAddedModifier(InitOnlyDefaults.For<Hardware.Peripherals.GpioLinesConfig>())
            .WithAddedModifier(InitOnlyDefaults.For<Hardware.Peripherals.InterlockLineConfig>())
            .WithAddedModifier(InitOnlyDefaults.For<Hardware.Peripherals.GateEnableLineConfig>()),
    };

    private static JsonSerializerOptions? s_readOptions;

    /// <summary>A node config's contract.</summary>
    public static JsonTypeInfo<Service.NodeConfig> Config => (JsonTypeInfo<Service.NodeConfig>)ReadOptions.GetTypeInfo(typeof(Service.NodeConfig));

    /// <summary>A bench file's contract.</summary>
    public static JsonTypeInfo<Devices.DeviceBench> Bench => (JsonTypeInfo<Devices.DeviceBench>)ReadOptions.GetTypeInfo(typeof(Devices.DeviceBench));
}
