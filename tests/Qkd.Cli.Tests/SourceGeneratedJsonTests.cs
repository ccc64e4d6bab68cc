using Qkd.Hardware.Peripherals;
using Qkd.ClassicalChannel;
using Qkd.Hardware.RandomNumberGenerator;
using Qkd.Lab.Run;
using System.Collections;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Qkd.Emulation;
using Qkd.Lab;
using Qkd.Node.Devices;
using Qkd.Node.Link;
using Qkd.Node.Service;

namespace Qkd.Cli.Tests;

/// <summary>
/// Every config, bench, profile and report goes through its source-generated contract: what trimmed and Native AOT
/// builds of `qkd` run. This project runs with reflection-based serialization switched off
/// (JsonSerializerIsReflectionEnabledByDefault=false, as in those builds), so any JSON path that still needs reflection
/// fails here rather than only in a published binary.
/// </summary>
public sealed class SourceGeneratedJsonTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "qkd-json-tests-" + Guid.NewGuid().ToString("N"));

    public SourceGeneratedJsonTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Reflection_based_serialization_is_off_in_this_test_run()
    {
        // The guard the other tests rely on: were reflection on, a path that needs it would pass here and crash under AOT.
        Assert.False(JsonSerializer.IsReflectionEnabledByDefault);
        Assert.Throws<InvalidOperationException>(() => JsonSerializer.Serialize(new { a = 1 }));
    }

    [Fact]
    public void Node_init_configs_read_back_as_written()
    {
        var (alicePath, bobPath) = NodeSetup.Write(_dir, basePort: 7300, durationSeconds: 0.5, sessions: 2, blockSizeBits: 1 << 20, distanceKm: 10);
        var alice = NodeConfig.Load(alicePath);
        var bob = NodeConfig.Load(bobPath);

        Assert.Equal("alice", alice.Role);
        Assert.Equal("bob", bob.Role);
        Assert.Equal("demo-link", alice.LinkId);
        Assert.Equal(0.5, alice.DurationSeconds);
        Assert.Equal(2, alice.Sessions);
        Assert.Equal(1L << 20, alice.BlockSizeBits);
        Assert.Equal(10.0, alice.Emulator.DistanceKm);
        Assert.Equal("127.0.0.1:7300", alice.ClassicalChannel.Endpoint);
        Assert.Equal("alice-keys.db", alice.KeyPool.Database);
        Assert.Equal(7303, alice.KeyDelivery!.Port);
        Assert.Equal(7304, bob.KeyDelivery!.Port);
        Assert.Equal("KME-ALICE", alice.KeyDelivery.KmeId);
        Assert.Equal(NodeSetup.MasterSae, Assert.Single(alice.KeyDelivery.LocalSaes).SaeId);
        Assert.Equal(["ca.pem"], alice.KeyDelivery.TrustedClientCaPaths);
        Assert.Null(alice.InsecureFixedSeed);

        // What node init writes: camelCase, indented, no null fields, the former "keyStore" name never written.
        string text = File.ReadAllText(alicePath);
        Assert.Contains("\n  \"linkId\": \"demo-link\"", text);
        Assert.DoesNotContain("null", text);
        Assert.DoesNotContain("keyStore", text);
        Assert.DoesNotContain("baseDirectory", text, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Fields_a_config_leaves_out_keep_their_declared_defaults()
    {
        // Source-generated contracts would fill absent init-only properties with 0/null (dotnet/runtime#84484);
        // InitOnlyDefaults keeps the values the records declare.
        string path = Write("minimal.json", """
            {
              // comments and trailing commas are allowed
              "role": "bob",
              "linkId": "l",
              "classicalChannel": { "endpoint": "127.0.0.1:7001", "preSharedSecretFile": "s" },
              "keyPool": { "database": "k.db", "operatorKeyFile": "op.key" },
              "keyDelivery": {
                "serverCertificatePath": "kme.pfx", "trustedClientCaPaths": ["ca.pem"], "kmeId": "A", "peerKmeId": "B",
                "localSaes": [{ "saeId": "s1", "certificateSubjectCn": "s1" }], "peerSaes": [{ "saeId": "s2" }],
              },
              "emulator": { "fibre": "127.0.0.1:7002" },
            }
            """);
        var config = NodeConfig.Load(path);
        var declared = new NodeConfig
        {
            Role = "bob", LinkId = "l", ClassicalChannel = new ClassicalChannelConfig("x", "y"), Emulator = new EmulatorConfig("z"),
        };
        Assert.Equal(declared.DurationSeconds, config.DurationSeconds);
        Assert.Equal(declared.AuthenticationReplenishBits, config.AuthenticationReplenishBits);
        Assert.Equal(declared.BlockSizeBits, config.BlockSizeBits);
        Assert.Equal(1.0, config.DurationSeconds);
        Assert.Equal(1L << 23, config.BlockSizeBits);
        Assert.Equal("state", config.ClassicalChannel.StateDirectory);
        Assert.Equal(256, config.KeyPool.KeySizeBits);
        Assert.Equal(7UL, config.Emulator.Seed);
        Assert.Equal("inproc", config.Emulator.Transport);
        var delivery = new Kme.Delivery.KeyDeliveryOptions();
        Assert.Equal(delivery.ListenAddress, config.KeyDelivery!.ListenAddress);
        Assert.Equal(delivery.Port, config.KeyDelivery.Port);
        Assert.Equal(delivery.MaxKeyPerRequest, config.KeyDelivery.MaxKeyPerRequest);
        Assert.Equal(delivery.MaxRequestBodyBytes, config.KeyDelivery.MaxRequestBodyBytes);
        Assert.Equal(8443, config.KeyDelivery.Port);
    }

    [Fact]
    public void A_config_with_an_unknown_or_a_missing_required_field_is_refused_naming_it()
    {
        string valid = File.ReadAllText(NodeSetup.Write(_dir, basePort: 7400).AliceConfig);
        string unknown = Write("unknown.json", valid.Replace("\"linkId\"", "\"linkIdd\": \"x\",\n  \"linkId\""));
        var e = Assert.Throws<InvalidDataException>(() => NodeConfig.Load(unknown));
        Assert.Contains("linkIdd", e.Message);
        Assert.Contains(unknown, e.Message);

        string missing = Write("missing.json", valid.Replace("\"linkId\": \"demo-link\",", ""));
        e = Assert.Throws<InvalidDataException>(() => NodeConfig.Load(missing));
        Assert.Contains("linkId", e.Message);
    }

    [Fact]
    public void A_bench_round_trips_and_stays_strict()
    {
        var bench = DeviceBench.Parse("""
            { "modulator": { "usbSerialNumber": "MOD-0001" },
              "detector": { "serialPort": "/dev/ttyACM0", "baudRate": 115200 },
              "tagger": { "usbSerialNumber": "TT-0042" },
              "replyTimeoutMs": 2000, }
            """);
        Assert.Equal("MOD-0001", bench.Modulator.UsbSerialNumber);
        Assert.Equal(115200, bench.Detector.BaudRate);
        Assert.Null(bench.Description);
        string json = bench.ToJson();
        Assert.DoesNotContain("null", json);
        Assert.Equal(bench, DeviceBench.Parse(json));
        Assert.Equal(json, DeviceBench.Parse(json).ToJson());
        var e = Assert.Throws<InvalidDataException>(() => DeviceBench.Parse(json.Replace("\"tagger\"", "\"taggr\"")));
        Assert.Contains("taggr", e.Message);
    }

    [Fact]
    public void A_link_profile_round_trips_with_enums_as_their_names_and_defaults_for_left_out_fields()
    {
        Assert.Equal(LinkProfile.Default, LinkProfile.Parse("{}"));
        Assert.Equal(LinkProfile.Default with { FibreLengthKm = 50 }, LinkProfile.Parse("""{ "fibreLengthKm": 50 }"""));

        var profile = LinkProfile.Default with { FibreLengthKm = 12.5, Eavesdropper = EavesdropperSpec.InterceptResend(0.25) };
        string json = profile.ToJson();
        Assert.Contains($"\"receiverLayout\": \"{profile.ReceiverLayout}\"", json);
        Assert.Contains("\"kind\": \"InterceptResend\"", json);
        Assert.Equal(profile, LinkProfile.Parse(json));

        // Enums by name only: a number would pick a member by position.
        Assert.Throws<LinkProfileException>(() => LinkProfile.Parse("""{ "receiverLayout": 0 }"""));
        Assert.Throws<LinkProfileException>(() => LinkProfile.Parse("""{ "fibreLenghtKm": 1 }"""));
    }

    [Fact]
    public void A_delay_configuration_round_trips()
    {
        var config = new DelayConfiguration(0, [1, 2, 3, 4], [1_000, -250, 0, 7]);
        string path = Path.Combine(_dir, "delays.json");
        config.Save(path);
        var read = DelayConfiguration.Load(path);
        Assert.Equal(config.SyncChannel, read.SyncChannel);
        Assert.Equal(config.DetectorChannels, read.DetectorChannels);
        Assert.Equal(config.DetectorDelaysPs, read.DetectorDelaysPs);
        Assert.Contains("\"detectorDelaysPs\"", File.ReadAllText(path));
    }

    [Fact]
    public async Task A_run_report_reads_back_through_its_contract_and_writes_the_same_text()
    {
        string report = Path.Combine(_dir, "report.json");
        var (code, output, error) = await Cli.Run("run", "--emulator", "--seed", "7", "--duration-s", "0.1", "--block-size", "1048576",
            "--report", report, "--keys-dir", Path.Combine(_dir, "keys"), "--quiet");
        Assert.True(code == 0, output + error);

        string text = File.ReadAllText(report);
        var read = JsonSerializer.Deserialize(text, LinkReportJson.Default.LinkReport)!;
        Assert.Equal(text, JsonSerializer.Serialize(read, LinkReportJson.Default.LinkReport));
        Assert.Equal("qkd-link-report/1", read.Format);
        Assert.Contains("\"keyStores\"", text);
        // Enums in reports are camelCase names, as the reflection-based writer wrote them.
        string layout = read.Profile.ReceiverLayout.ToString();
        Assert.Contains($"\"receiverLayout\": \"{char.ToLowerInvariant(layout[0])}{layout[1..]}\"", text);
    }

    public static TheoryData<string> ReportContracts => ["LinkReportJson", "LinkProfileJson", "LabJson", "CliJson"];

    /// <summary>
    /// Reports and profiles write enums as names. A source-generated context writes an enum without a converter as a
    /// number, silently: every enum reachable from these contracts must have its converter in the context's options.
    /// </summary>
    [Theory]
    [MemberData(nameof(ReportContracts))]
    public void Every_enum_a_contract_can_reach_is_written_as_a_name(string context)
    {
        JsonSerializerContext resolver = context switch
        {
            "LinkReportJson" => LinkReportJson.Default,
            "LinkProfileJson" => LinkProfileJson.Default,
            "LabJson" => LabJson.Default,
            "CliJson" => CliJson.Default,
            _ => throw new ArgumentOutOfRangeException(nameof(context)),
        };
        var roots = resolver.GetType().GetProperties()
            .Where(p => typeof(JsonTypeInfo).IsAssignableFrom(p.PropertyType) && p.GetValue(resolver) is JsonTypeInfo)
            .Select(p => ((JsonTypeInfo)p.GetValue(resolver)!).Type);
        var seen = new HashSet<Type>();
        var enums = new List<Type>();
        foreach (var root in roots) Walk(root);
        foreach (var type in enums)
        {
            object first = Enum.GetValues(type).GetValue(0)!;
            string json = JsonSerializer.Serialize(first, resolver.GetTypeInfo(type)!);
            Assert.True(json.StartsWith('"'), $"{context}: enum {type.FullName} is written as {json}, not as a name");
        }
        Assert.NotEmpty(seen);

        void Walk(Type type)
        {
            type = Nullable.GetUnderlyingType(type) ?? type;
            if (!seen.Add(type)) return;
            if (type.IsEnum) { enums.Add(type); return; }
            var info = resolver.GetTypeInfo(type);
            if (info is null) return;
            if (info.Kind == JsonTypeInfoKind.Object)
                foreach (var property in info.Properties) Walk(property.PropertyType);
            if (info.Kind is JsonTypeInfoKind.Enumerable or JsonTypeInfoKind.Dictionary && type.IsAssignableTo(typeof(IEnumerable)))
            {
                var generic = type.IsArray ? [type.GetElementType()!] : type.GetInterfaces().Append(type)
                    .Where(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))
                    .SelectMany(i => i.GetGenericArguments()[0] is { IsGenericType: true } pair
                        && pair.GetGenericTypeDefinition() == typeof(KeyValuePair<,>) ? pair.GetGenericArguments() : i.GetGenericArguments());
                foreach (var element in generic) Walk(element);
            }
        }
    }

    private string Write(string name, string text)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }
}
