using Qkd.Hardware.Peripherals;
using Qkd.Node.Devices;
using Qkd.ClassicalChannel;
using Qkd.Hardware.RandomNumberGenerator;
using Qkd.Lab.Run;
using System.Text.Json;
using Qkd.Emulation;
using Qkd.Node.Link;

namespace Qkd.Node.Tests;

/// <summary>End-to-end: the emulated link through the real distillation code, as `qkd run --emulator` runs it.</summary>
public sealed class EmulatedLinkTests : IDisposable
{
    private readonly string _keys = Path.Combine(Path.GetTempPath(), "qkd-node-tests-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_keys)) Directory.Delete(_keys, recursive: true);
    }

    private EmulatedRunOptions Options(LinkProfile profile, double seconds, ulong seed = 7, long block = 1L << 21) => new()
    {
        Profile = profile,
        DurationSeconds = seconds,
        Seed = seed,
        Settings = LinkSettings.Default with { BlockSizeBits = block },
        KeysDirectory = _keys,
    };

    [Fact(Timeout = 600_000)]
    public async Task Link_at_25_km_yields_identical_keys_at_both_ends()
    {
        var report = await new EmulatedLinkRunner(Options(LinkProfile.Default.WithDistance(25), 0.25)).RunAsync(cancellationToken: TestContext.Current.CancellationToken);

        Assert.False(report.Aborted, report.Reason);
        Assert.True(report.SecretBits > 0, report.Reason);
        Assert.True(report.IdenticalKeys);
        Assert.True(report.KeyFiles.BlocksStored >= 1);
        Assert.Equal(report.KeyFiles.BitsStoredAtAlice, report.KeyFiles.BitsStoredAtBob);
        Assert.Equal(report.SecretBits, report.KeyFiles.BitsStoredAtBob);
        Assert.All(report.Blocks.Where(b => b.Outcome == "Key"), b => Assert.True(b.VerificationPassed));
        // Sanity of what the report says against the physics: QBER near the misalignment, f above the Shannon limit.
        Assert.InRange(report.QberZ!.Value, 0.005, 0.03);
        Assert.True(report.ErrorCorrection.Efficiency > 1.0);
        Assert.True(report.SecretKeyRateBitsPerSecond > 0);
    }

    [Fact(Timeout = 600_000)]
    public async Task Over_a_2_ms_round_trip_auto_reconciliation_corrects_with_ldpc_and_the_report_shows_rounds_and_waiting()
    {
        // A metro network between the ends: Cascade's ~2,000 rounds would take 4 s per block, far longer than the
        // block's light, so auto must choose LDPC from the measured round trip; Bob waits at least one round trip per block.
        var options = Options(LinkProfile.Default.WithDistance(25), 0.25) with
        {
            ChannelRoundTrip = TimeSpan.FromMilliseconds(2),
            Settings = LinkSettings.Default with { BlockSizeBits = 1L << 21, Reconciliation = Distillation.ErrorCorrection.ReconciliationMethod.Auto },
        };
        var report = await new EmulatedLinkRunner(options).RunAsync(cancellationToken: TestContext.Current.CancellationToken);

        Assert.False(report.Aborted, report.Reason);
        Assert.True(report.SecretBits > 0, report.Reason);
        Assert.True(report.IdenticalKeys);
        Assert.Equal("ldpc", report.ErrorCorrection.Method);
        Assert.Equal(0.002, report.ClassicalChannel.EmulatedRoundTripSeconds, 9);
        var corrected = report.Blocks.Where(b => b.ErrorCorrection is not null).Select(b => b.ErrorCorrection!).ToList();
        Assert.NotEmpty(corrected);
        Assert.All(corrected, ec =>
        {
            Assert.Equal("ldpc", ec.Method);
            Assert.True(ec.Rounds >= 1);
            Assert.True(ec.RoundTripSeconds >= 0.002, $"measured round trip {ec.RoundTripSeconds} s below the emulated 2 ms");
            Assert.True(ec.WaitSeconds >= 0.002 * 0.99, $"{ec.Rounds} rounds waited only {ec.WaitSeconds} s, less than one round trip");
        });
        string json = report.ToJson();
        Assert.Contains("\"errorCorrection\":", json);
        Assert.Contains("\"waitSeconds\":", json);
    }

    [Fact(Timeout = 600_000)]
    public async Task Intercept_resend_on_every_pulse_aborts_without_key()
    {
        var profile = LinkProfile.Default.WithDistance(25) with { Eavesdropper = EavesdropperSpec.Parse("intercept-resend:1") };
        var report = await new EmulatedLinkRunner(Options(profile, 0.15)).RunAsync(cancellationToken: TestContext.Current.CancellationToken);

        Assert.True(report.Aborted);
        Assert.Equal(0, report.SecretBits);
        Assert.Equal(0, report.KeyFiles.BlocksStored);
        Assert.Contains("QBER", report.Reason);
        // Eve learns the bit only with matching basis and a non-empty pulse: error 1/4 + e^{-mu}/4 on signal pulses.
        var signal = report.PerIntensity.Single(k => k.Intensity == "signal");
        Assert.InRange(signal.ErrorRateX!.Value, 0.25 + Math.Exp(-signal.MeanPhotonNumber) / 4 - 0.02, 0.25 + Math.Exp(-signal.MeanPhotonNumber) / 4 + 0.02);
    }

    [Fact(Timeout = 600_000)]
    public async Task Link_too_long_for_key_ends_with_a_clear_reason_not_an_exception()
    {
        var report = await new EmulatedLinkRunner(Options(LinkProfile.Default.WithDistance(300), 0.2, block: 1L << 16)).RunAsync(cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(0, report.SecretBits);
        Assert.False(string.IsNullOrWhiteSpace(report.Reason));
        Assert.Equal(0, report.KeyFiles.BlocksStored);
    }

    [Fact(Timeout = 600_000)]
    public async Task Same_seed_gives_the_same_run()
    {
        // A run that produces key: an aborted run stops reading wherever the abort finds it.
        var profile = LinkProfile.Default.WithDistance(25);
        var a = await new EmulatedLinkRunner(Options(profile, 0.2, seed: 11, block: 1L << 21)).RunAsync(cancellationToken: TestContext.Current.CancellationToken);
        var b = await new EmulatedLinkRunner(Options(profile, 0.2, seed: 11, block: 1L << 21)).RunAsync(cancellationToken: TestContext.Current.CancellationToken);
        var c = await new EmulatedLinkRunner(Options(profile, 0.2, seed: 12, block: 1L << 21)).RunAsync(cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(a.Detections, b.Detections);
        Assert.Equal(a.SiftedBitsZ, b.SiftedBitsZ);
        Assert.True(a.SecretBits > 0, a.Reason);
        Assert.Equal(a.SecretBits, b.SecretBits);
        Assert.Equal(a.Blocks.Select(x => x.SiftedX), b.Blocks.Select(x => x.SiftedX));
        Assert.Equal(a.ErrorCorrection.LeakedBits, b.ErrorCorrection.LeakedBits);
        Assert.NotEqual(a.Detections, c.Detections);
    }

    [Fact(Timeout = 600_000)]
    public async Task Report_json_carries_every_figure_the_operator_needs()
    {
        var report = await new EmulatedLinkRunner(Options(LinkProfile.Default.WithDistance(25), 0.1, block: 1L << 20)).RunAsync(cancellationToken: TestContext.Current.CancellationToken);
        using var json = JsonDocument.Parse(report.ToJson());
        var root = json.RootElement;
        foreach (string field in new[]
                 {
                     "profile", "pulsesSent", "detections", "siftedBitsZ", "siftedBitsX", "siftedBitsZNotDistilled", "perIntensity", "qberZ", "qberX",
                     "decoyState", "errorCorrection", "verification", "secretBits", "secretKeyRateBitsPerSecond",
                     "secretKeyRateBitsPerPulse", "identicalKeys", "aborted", "reason", "blocks",
                 })
            Assert.True(root.TryGetProperty(field, out _), $"report lacks '{field}'");
        var perIntensity = root.GetProperty("perIntensity");
        Assert.Equal(3, perIntensity.GetArrayLength());
        foreach (var k in perIntensity.EnumerateArray())
        {
            Assert.True(k.GetProperty("gain").GetDouble() > 0);
            Assert.True(k.GetProperty("siftedZ").GetInt64() > 0);
            Assert.True(k.TryGetProperty("errorRateX", out _));
        }
        var decoy = root.GetProperty("decoyState");
        Assert.True(decoy.GetProperty("singlePhotonYieldLower").GetDouble() > 0);
        Assert.True(decoy.GetProperty("phaseErrorRateZUpper").GetDouble() > 0);
        Assert.True(root.GetProperty("errorCorrection").GetProperty("leakedBits").GetInt64() > 0);
        // Keys never appear in the report: it holds no base64 or hex blob of key size.
        Assert.DoesNotContain("\"key\"", report.ToJson());
    }
}
