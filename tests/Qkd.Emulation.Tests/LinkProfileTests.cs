using System.Runtime.CompilerServices;
using Qkd.Core;
using Qkd.Emulation;

namespace Qkd.Emulation.Tests;

public sealed class LinkProfileTests
{
    private static string RepositoryFile(string relative, [CallerFilePath] string thisFile = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(thisFile)!, "..", "..", relative));

    [Fact]
    public void Defaults_describe_the_documented_link()
    {
        LinkProfile p = LinkProfile.Default;
        Assert.Equal(1550, p.WavelengthNm);
        Assert.Equal(25, p.FibreLengthKm);
        Assert.Equal(20_000, p.DeadTimePs);
        Assert.Equal(ReceiverLayout.PassiveFourDetector, p.ReceiverLayout);
        Assert.Equal(EavesdropperKind.None, p.Eavesdropper.Kind);
        p.Validate();
    }

    [Fact]
    public void Derived_quantities_follow_from_the_fields()
    {
        LinkProfile p = LinkProfile.Default.WithDistance(50);
        Assert.Equal(50, p.FibreLengthKm);
        Assert.Equal(25, LinkProfile.Default.FibreLengthKm);
        Assert.Equal(Math.Pow(10, -(50 * 0.2 + 1.5) / 10), p.ChannelTransmittance, 1e-15);
        Assert.Equal(Math.Pow(10, -(50 * 0.2 + 1.5) / 10) * 0.25, p.TotalTransmittance, 1e-15);
        Assert.Equal(Math.Pow(10, -0.15) * 0.25, p.ReceiverTransmittance, 1e-15);
        Assert.Equal(50_000 * 1.468 / 299_792_458.0 * 1e12, p.FibreDelayPs, 1e-3);
    }

    [Fact]
    public void The_default_light_is_the_1_GHz_decoy_state_source()
    {
        var light = TransmitterLight.Default;
        Assert.Equal(1e9, light.PulseRateHz);
        Assert.Equal(1000, light.PulsePeriodPs, 1e-9);
        Assert.Equal(0.5, light.MeanPhotonNumber(Intensity.Signal));
        Assert.Equal(0.15, light.MeanPhotonNumber(Intensity.Decoy));
        Assert.Equal(0.0, light.MeanPhotonNumber(Intensity.Vacuum));
        light.Validate();
        var e = Assert.Throws<LinkProfileException>(() => (light with { PulseRateHz = 0 }).Validate());
        Assert.Equal("pulseRateHz", e.Field);
        Assert.Contains("pulseRateHz must lie in [1, 1e12] (a period of at least 1 ps), got 0", e.Message);
        e = Assert.Throws<LinkProfileException>(() => (light with { DecoyMeanPhotonNumber = 0 }).Validate());
        Assert.Equal("decoyMeanPhotonNumber", e.Field);
    }

    [Fact]
    public void Json_round_trips_every_field()
    {
        LinkProfile changed = new()
        {
            WavelengthNm = 1310, BobProbabilityZ = 0.7, FibreLengthKm = 12.5, FibreLossDbPerKm = 0.35, FibreGroupIndex = 1.47,
            BobInternalLossDb = 2, DetectorEfficiency = 0.6, DarkCountProbabilityPerPulse = 3e-7, AfterpulseProbability = 0.05,
            AfterpulseDecayPs = 12_345.5, DeadTimePs = 10_000, TimingJitterRmsPs = 25.5, MisalignmentError = 0.02,
            ClockOffsetPs = -42, ClockDriftPpm = -1.5, ReceiverLayout = ReceiverLayout.ActiveTwoDetector,
            Eavesdropper = EavesdropperSpec.InterceptResend(0.25),
        };
        Assert.Equal(changed, LinkProfile.Parse(changed.ToJson()));
        Assert.Equal(LinkProfile.Default, LinkProfile.Parse(LinkProfile.Default.ToJson()));

        string json = changed.ToJson();
        Assert.Contains("\"fibreLengthKm\": 12.5", json);
        Assert.Contains("\"receiverLayout\": \"ActiveTwoDetector\"", json);
        Assert.Contains("\"kind\": \"InterceptResend\"", json);
        Assert.DoesNotContain("totalTransmittance", json, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Missing_fields_keep_their_defaults()
    {
        Assert.Equal(LinkProfile.Default, LinkProfile.Parse("{}"));
        Assert.Equal(LinkProfile.Default.WithDistance(80), LinkProfile.Parse("""{ "fibreLengthKm": 80 }"""));
        Assert.Equal(EavesdropperSpec.PhotonNumberSplitting(1),
            LinkProfile.Parse("""{ "eavesdropper": { "kind": "PhotonNumberSplitting" } }""").Eavesdropper);
    }

    [Fact]
    public void Transmitter_settings_are_not_physics()
    {
        // Profile files may still carry them; Qkd.Node's LinkProfileFile reads those into the link settings.
        var e = Assert.Throws<LinkProfileException>(() => LinkProfile.Parse("""{ "pulseRateHz": 1e9 }"""));
        Assert.Contains("pulseRateHz", e.Message);
    }

    [Fact]
    public void The_readme_documents_every_field()
    {
        string readme = File.ReadAllText(RepositoryFile("src/Qkd.Emulation/README.md"));
        foreach (var property in typeof(LinkProfile).GetProperties())
        {
            if (property.GetCustomAttributes(typeof(System.Text.Json.Serialization.JsonIgnoreAttribute), true).Length > 0) continue;
            if (!property.CanWrite) continue;
            string json = char.ToLowerInvariant(property.Name[0]) + property.Name[1..];
            Assert.Contains($"`{json}`", readme);
        }
    }

    [Theory]
    [InlineData("""{ "fibreLenghtKm": 3 }""", "fibreLenghtKm")]
    [InlineData("""{ "eavesdropper": { "kind": "None", "strength": 1 } }""", "strength")]
    public void Unknown_fields_are_rejected_by_name(string json, string name)
    {
        var e = Assert.Throws<LinkProfileException>(() => LinkProfile.Parse(json));
        Assert.Contains(name, e.Message);
    }

    [Theory]
    [InlineData("""{ "receiverLayout": "Passive" }""", "receiverLayout")]
    [InlineData("""{ "receiverLayout": 1 }""", "receiverLayout")]
    [InlineData("""{ "fibreLengthKm": "far" }""", "fibreLengthKm")]
    [InlineData("""{ "deadTimePs": 1.5 }""", "deadTimePs")]
    [InlineData("""{ "eavesdropper": { "kind": "Tap" } }""", "eavesdropper.kind")]
    [InlineData("""{ "fibreLengthKm": 1, }x""", "$")]
    public void Malformed_json_is_rejected_with_the_path(string json, string path)
    {
        var e = Assert.Throws<LinkProfileException>(() => LinkProfile.Parse(json));
        Assert.Contains(path, e.Field + " " + e.Message);
    }

    public static TheoryData<string, string, string> InvalidValues() => new()
    {
        { "wavelengthNm", "-1", "wavelengthNm must be > 0, got -1" },
        { "bobProbabilityZ", "0", "bobProbabilityZ must lie strictly between 0 and 1, got 0" },
        { "fibreLengthKm", "-3", "fibreLengthKm must be >= 0, got -3" },
        { "fibreLengthKm", "1e6", "fibreLengthKm must be <= 100000, got 1000000" },
        { "fibreLossDbPerKm", "-0.2", "fibreLossDbPerKm must be >= 0, got -0.2" },
        { "fibreGroupIndex", "0.9", "fibreGroupIndex must lie in [1, 10], got 0.9" },
        { "bobInternalLossDb", "-1", "bobInternalLossDb must be >= 0, got -1" },
        { "detectorEfficiency", "0", "detectorEfficiency must lie in (0, 1], got 0" },
        { "detectorEfficiency", "1.2", "detectorEfficiency must lie in (0, 1], got 1.2" },
        { "darkCountProbabilityPerPulse", "1", "darkCountProbabilityPerPulse must lie in [0, 1), got 1" },
        { "afterpulseProbability", "-0.01", "afterpulseProbability must lie in [0, 1), got -0.01" },
        { "afterpulseDecayPs", "0", "afterpulseDecayPs must be > 0, got 0" },
        { "deadTimePs", "-5", "deadTimePs must be >= 0, got -5" },
        { "timingJitterRmsPs", "-40", "timingJitterRmsPs must be >= 0, got -40" },
        { "misalignmentError", "0.6", "misalignmentError must lie in [0, 0.5], got 0.6" },
        { "clockDriftPpm", "2000", "clockDriftPpm must lie in [-1000, 1000], got 2000" },
    };

    [Theory]
    [MemberData(nameof(InvalidValues))]
    public void Each_invalid_value_is_rejected_with_a_message_naming_the_field_and_value(string field, string value, string message)
    {
        var e = Assert.Throws<LinkProfileException>(() => LinkProfile.Parse($"{{ \"{field}\": {value} }}"));
        Assert.Contains(message, e.Message);
        Assert.Contains(e.Field, e.Message);
    }

    [Fact]
    public void Invalid_eavesdropper_fraction_and_null_eavesdropper_are_rejected()
    {
        var e = Assert.Throws<LinkProfileException>(() => LinkProfile.Parse("""{ "eavesdropper": { "kind": "InterceptResend", "fraction": 1.5 } }"""));
        Assert.Equal("eavesdropper.fraction", e.Field);
        Assert.Contains("eavesdropper.fraction must lie in [0, 1], got 1.5", e.Message);
        e = Assert.Throws<LinkProfileException>(() => LinkProfile.Parse("""{ "eavesdropper": null }"""));
        Assert.Equal("eavesdropper", e.Field);
        e = Assert.Throws<LinkProfileException>(() => (LinkProfile.Default with { ReceiverLayout = (ReceiverLayout)9 }).Validate());
        Assert.Equal("receiverLayout", e.Field);
    }

    [Fact]
    public void Load_names_the_file_in_errors()
    {
        string path = Path.Combine(Path.GetTempPath(), $"emu-profile-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, """{ "fibreLengthKm": -3 }""");
        try
        {
            var e = Assert.Throws<LinkProfileException>(() => LinkProfile.Load(path));
            Assert.Contains(path, e.Message);
            Assert.Contains("fibreLengthKm must be >= 0, got -3", e.Message);
            Assert.Equal("fibreLengthKm", e.Field);
        }
        finally
        {
            File.Delete(path);
        }
        Assert.Throws<FileNotFoundException>(() => LinkProfile.Load(path));
    }

    [Theory]
    [InlineData("none", EavesdropperKind.None, 1.0)]
    [InlineData(" None ", EavesdropperKind.None, 1.0)]
    [InlineData("intercept-resend:0.5", EavesdropperKind.InterceptResend, 0.5)]
    [InlineData("intercept-resend", EavesdropperKind.InterceptResend, 1.0)]
    [InlineData("IR:0", EavesdropperKind.InterceptResend, 0.0)]
    [InlineData("pns", EavesdropperKind.PhotonNumberSplitting, 1.0)]
    [InlineData("pns:0.8", EavesdropperKind.PhotonNumberSplitting, 0.8)]
    [InlineData("photon-number-splitting:1", EavesdropperKind.PhotonNumberSplitting, 1.0)]
    public void Eavesdropper_parses_the_command_line_form(string text, EavesdropperKind kind, double fraction)
    {
        EavesdropperSpec spec = EavesdropperSpec.Parse(text);
        Assert.Equal(kind, spec.Kind);
        Assert.Equal(fraction, spec.Fraction);
        Assert.Equal(spec, EavesdropperSpec.Parse(spec.ToString()));
        Assert.Equal(kind != EavesdropperKind.None && fraction > 0, spec.IsActive);
    }

    [Theory]
    [InlineData("smoke", "Unknown eavesdropper 'smoke'")]
    [InlineData("", "Unknown eavesdropper ''")]
    [InlineData("pns:1.5", "fraction must be a number in [0, 1], got '1.5'")]
    [InlineData("intercept-resend:half", "fraction must be a number in [0, 1], got 'half'")]
    [InlineData("none:0.5", "'none' takes no value")]
    public void Eavesdropper_parse_errors_say_what_is_expected(string text, string message)
    {
        var e = Assert.Throws<FormatException>(() => EavesdropperSpec.Parse(text));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Eavesdropper_prints_in_the_command_line_form()
    {
        Assert.Equal("none", EavesdropperSpec.None.ToString());
        Assert.Equal("intercept-resend:0.5", EavesdropperSpec.InterceptResend(0.5).ToString());
        Assert.Equal("pns:1", EavesdropperSpec.PhotonNumberSplitting().ToString());
    }
}
