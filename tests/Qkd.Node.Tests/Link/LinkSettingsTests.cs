using System.Runtime.CompilerServices;
using Qkd.Core;
using Qkd.Emulation;
using Qkd.Node.Devices;
using Qkd.Node.Link;

namespace Qkd.Node.Tests.Link;

public sealed class LinkSettingsTests
{
    private static string RepositoryFile(string relative, [CallerFilePath] string thisFile = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(thisFile)!, "..", "..", "..", relative));

    [Fact]
    public void Defaults_are_the_built_in_links_and_give_the_same_distillation_and_symbols_as_before()
    {
        var s = LinkSettings.Default;
        Assert.Equal(1e9, s.PulseRateHz);
        Assert.Equal(1000, s.PulsePeriodPs, 1e-9);
        Assert.Equal((0.5, 0.15, 0.0), (s.SignalMeanPhotonNumber, s.DecoyMeanPhotonNumber, s.VacuumMeanPhotonNumber));
        Assert.Equal((0.65, 0.25, 0.10), (s.SignalProbability, s.DecoyProbability, s.VacuumProbability));
        Assert.Equal(0.75, s.AliceProbabilityZ);
        Assert.Equal(1024, s.PulsesPerSync);
        Assert.Equal(1L << 23, s.BlockSizeBits);
        Assert.Null(s.MinimumFinalBlockBits);
        s.Validate();

        var distillation = s.Distillation();
        Assert.Equal([0.5, 0.15, 0.0], distillation.MeanPhotonNumbers);
        Assert.Equal([0.65, 0.25, 0.10], distillation.IntensityProbabilities);
        Assert.Equal(1L << 23, distillation.BlockSizeBits);
        Assert.Equal(1L << 16, distillation.MinimumFinalBlockBits);
        Assert.Equal(4096, (s with { BlockSizeBits = 4096 }).Distillation().MinimumFinalBlockBits);
        distillation.Validate();

        var alice = s.SymbolDistribution();
        Assert.Equal(0.75, alice.ProbabilityZ);
        Assert.Equal([0.65, 0.25, 0.10], alice.IntensityProbabilities);
        Assert.Equal(TransmitterLight.Default, s.Light);
        Assert.Equal(0.15, s.MeanPhotonNumber(Intensity.Decoy));
        Assert.Equal(0.10, s.IntensityProbability(Intensity.Vacuum));
    }

    public static TheoryData<string, string, string> InvalidValues() => new()
    {
        { "pulseRateHz", "0", "pulseRateHz must lie in [1, 1e12] (a period of at least 1 ps), got 0" },
        { "pulseRateHz", "2e12", "pulseRateHz must lie in [1, 1e12]" },
        { "vacuumMeanPhotonNumber", "-0.1", "vacuumMeanPhotonNumber must be >= 0, got -0.1" },
        { "decoyMeanPhotonNumber", "0", "decoyMeanPhotonNumber must be > vacuumMeanPhotonNumber (0), got 0" },
        { "signalMeanPhotonNumber", "0.1", "signalMeanPhotonNumber must be > decoyMeanPhotonNumber + vacuumMeanPhotonNumber (0.15), got 0.1" },
        { "signalMeanPhotonNumber", "500", "signalMeanPhotonNumber must be <= 100" },
        { "pulsesPerSync", "0", "pulsesPerSync must lie in [1, 1048576], got 0" },
        { "signalProbability", "1.5", "signalProbability must lie in [0, 1], got 1.5" },
        { "decoyProbability", "-0.15", "decoyProbability must lie in [0, 1], got -0.15" },
        { "vacuumProbability", "0.2", "signalProbability + decoyProbability + vacuumProbability must equal 1, got 1.1" },
        { "aliceProbabilityZ", "1", "aliceProbabilityZ must lie strictly between 0 and 1, got 1" },
        { "blockSizeBits", "512", "blockSizeBits must lie in [1024, 2^30], got 512" },
        { "minimumFinalBlockBits", "16777216", "minimumFinalBlockBits must lie in [1024, blockSizeBits (8388608)], got 16777216" },
    };

    [Theory]
    [MemberData(nameof(InvalidValues))]
    public void Each_invalid_setting_is_rejected_with_a_message_naming_it_and_its_value(string setting, string value, string message)
    {
        var e = Assert.Throws<LinkSettingsException>(() => LinkSettings.Parse($"{{ \"{setting}\": {value} }}"));
        Assert.Equal(setting == "vacuumProbability" ? "signalProbability" : setting, e.Setting);
        Assert.Contains(message, e.Message);
        Assert.IsAssignableFrom<ArgumentException>(e);
    }

    [Theory]
    [InlineData("""{ "pulseRate": 1e9 }""", "pulseRate")]
    [InlineData("""{ "fibreLengthKm": 3 }""", "fibreLengthKm")]
    [InlineData("""{ "pulsesPerSync": 1.5 }""", "pulsesPerSync")]
    [InlineData("""{ "blockSizeBits": 1, }x""", "$")]
    public void Unknown_fields_and_malformed_json_are_rejected_by_name(string json, string name)
    {
        var e = Assert.Throws<LinkSettingsException>(() => LinkSettings.Parse(json));
        Assert.Contains(name, e.Setting + " " + e.Message);
    }

    [Fact]
    public void Json_round_trips_every_setting_and_leaves_out_the_derived_ones()
    {
        var changed = new LinkSettings
        {
            PulseRateHz = 2.5e9, SignalMeanPhotonNumber = 0.6, DecoyMeanPhotonNumber = 0.2, VacuumMeanPhotonNumber = 0.001,
            PulsesPerSync = 4096, SignalProbability = 0.5, DecoyProbability = 0.3, VacuumProbability = 0.2, AliceProbabilityZ = 0.8,
            BlockSizeBits = 1L << 20, MinimumFinalBlockBits = 1L << 12, FiniteKey = "rusca2018",
            Reconciliation = Qkd.Distillation.ErrorCorrection.ReconciliationMethod.Auto,
        };
        string json = changed.ToJson();
        Assert.Equal(changed, LinkSettings.Parse(json));
        Assert.Equal(LinkSettings.Default, LinkSettings.Parse("{}"));
        Assert.Contains("\"pulsesPerSync\": 4096", json);
        Assert.DoesNotContain("pulsePeriodPs", json, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("light", json, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(13, LinkSettings.JsonNames.Count);
    }

    [Fact]
    public void An_unknown_finite_key_analysis_is_refused_naming_the_setting_and_the_choices()
    {
        var e = Assert.Throws<LinkSettingsException>(() => LinkSettings.Parse("{ \"finiteKey\": \"lim2015\" }"));
        Assert.Equal("finiteKey", e.Setting);
        Assert.Contains("lim2014|rusca2018|zhang2017|curraslorenzo2021", e.Message);
        Assert.Equal(Qkd.Distillation.ParameterEstimation.FiniteKeyAnalysisKind.Rusca2018,
            LinkSettings.Parse("{ \"finiteKey\": \"rusca2018\" }").Distillation().FiniteKeyAnalysis);
    }

    [Fact]
    public void The_readme_documents_every_setting()
    {
        string readme = File.ReadAllText(RepositoryFile("src/Qkd.Node/README.md"));
        foreach (string name in LinkSettings.JsonNames) Assert.Contains($"`{name}`", readme);
    }

    [Fact]
    public void The_shipped_profile_file_still_loads_to_the_default_physics_and_settings()
    {
        string path = RepositoryFile("src/Qkd.Emulation/profiles/default-link.json");
        var (profile, settings) = LinkProfileFile.Load(path);
        Assert.Equal(LinkProfile.Default, profile);
        Assert.Equal(LinkSettings.Default, settings);
    }

    [Fact]
    public void A_profile_files_transmitter_fields_are_read_into_the_settings_on_top_of_the_given_ones()
    {
        const string json = """
            {
              // an older profile: physics and transmitter settings in one file
              "pulseRateHz": 2e9,
              "signalMeanPhotonNumber": 0.6,
              "aliceProbabilityZ": 0.9,
              "fibreLengthKm": 10,
              "deadTimePs": 30000,
            }
            """;
        var (profile, settings) = LinkProfileFile.Parse(json, LinkSettings.Default with { BlockSizeBits = 1L << 20 });
        Assert.Equal(LinkProfile.Default with { FibreLengthKm = 10, DeadTimePs = 30_000 }, profile);
        Assert.Equal(LinkSettings.Default with { PulseRateHz = 2e9, SignalMeanPhotonNumber = 0.6, AliceProbabilityZ = 0.9, BlockSizeBits = 1L << 20 }, settings);

        // A physics-only file leaves the given settings as they are.
        var given = LinkSettings.Default with { PulsesPerSync = 512 };
        Assert.Same(given, LinkProfileFile.Parse("""{ "fibreLengthKm": 5 }""", given).Settings);
    }

    [Fact]
    public void A_bad_transmitter_field_in_a_profile_file_names_the_file_and_the_setting()
    {
        string path = Path.Combine(Path.GetTempPath(), $"old-profile-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, """{ "fibreLengthKm": 5, "signalProbability": 0.9 }""");
        try
        {
            var e = Assert.Throws<LinkSettingsException>(() => LinkProfileFile.Load(path));
            Assert.Equal("signalProbability", e.Setting);
            Assert.Contains(path, e.Message);
            Assert.Contains("signalProbability + decoyProbability + vacuumProbability must equal 1", e.Message);
            File.WriteAllText(path, """{ "fibreLengthKm": -5, "pulseRateHz": 1e9 }""");
            var p = Assert.Throws<LinkProfileException>(() => LinkProfileFile.Load(path));
            Assert.Equal("fibreLengthKm", p.Field);
            Assert.Contains(path, p.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact(Timeout = 60_000)]
    public void The_emulated_physics_takes_the_light_from_the_settings_the_modulator_is_configured_with()
    {
        var settings = LinkSettings.Default with { PulseRateHz = 2e9, SignalMeanPhotonNumber = 0.6, DecoyMeanPhotonNumber = 0.2, PulsesPerSync = 2048 };
        using var rig = LinkRig.CreateEmulated(LinkProfile.Default, EmulatedSetup.TaggerOptionsFor(settings, long.MaxValue), 1);
        rig.Connect();
        rig.Configure(LinkProfile.Default, settings, 0);
        var devices = rig.Emulated!;
        Assert.Equal(settings.Light, devices.ImpliedLight());
        Assert.Equal(2048, devices.ImpliedTaggerOptions().SyncDivider);
        Assert.Equal(LinkProfile.Default, devices.ImpliedProfile());
    }
}
