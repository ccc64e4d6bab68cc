using System.Text.Json;
using Qkd.Hardware.Devices;
using Qkd.Cli.Commands;
using Qkd.Core;
using Qkd.Emulation;
using Qkd.Lab;
using Qkd.Node.Devices;
using Qkd.Node.Link;

namespace Qkd.Cli.Tests;

/// <summary>
/// The bench QBER bug of issue 13: through `--bench` (the devices `qkd emulate --bench-out` serves on serial ports, with
/// its nanosecond cable delays) the monitor read a QBER of 50 % from a handful of detections, and the alignment sweep
/// found no QBER at all, because the measurement placed the detector tags as if the cables had no delay. Now the
/// commands take the receiver timing from `calibrate delays --write-config` or measure it on the devices: monitor and
/// alignment on such a bench read the emulator's QBER, and what `--write-config` keeps is read back by the commands
/// and by the node configuration it is for.
/// </summary>
public sealed class BenchQberTests : IDisposable
{
    private const double DistanceKm = 10;
    private readonly string _dir = Directory.CreateTempSubdirectory("qkd-bench-qber").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Task<(int Code, string Output, string Error)> Run(params string[] args) => Cli.Run(args);

    private string BenchFile(EmulatedSerialBench bench, string name = "bench.json")
    {
        string file = Path.Combine(_dir, name);
        File.WriteAllText(file, bench.Bench.ToJson());
        return file;
    }

    /// <summary>
    /// The emulator's truth for the QBER of <paramref name="basis"/> at its base misalignment: the decoy-state model's
    /// errors over gains, averaged over Alice's intensities (first order in dark counts, without afterpulses and the
    /// squashed multi-clicks, which only add errors).
    /// </summary>
    private static double TrueQber(LinkProfile profile, Basis basis)
    {
        var settings = LinkSettings.Default;
        var model = new LinkModel(profile, settings.Light, settings.SymbolDistribution());
        double errors = 0, gain = 0;
        foreach (Intensity k in Intensities.All)
        {
            double p = settings.SymbolDistribution().IntensityProbabilities[(int)k];
            errors += p * model.ErrorGain(k, basis);
            gain += p * model.Gain(k);
        }
        return errors / gain;
    }

    /// <summary>
    /// A measured QBER against the truth: no lower than 4 standard deviations below it, no higher than 4 above plus
    /// 1 % for afterpulses and squashed multi-clicks (each a random bit, half of them errors), which the model leaves out.
    /// </summary>
    private static void AssertNearTruth(JsonElement qber, JsonElement uncertainty, double truth, string what)
    {
        Assert.True(qber.ValueKind == JsonValueKind.Number, $"{what}: no QBER");
        double q = qber.GetDouble(), u = uncertainty.GetDouble();
        Assert.True(q >= truth - 4 * u && q <= truth + 0.01 + 4 * u, $"{what}: QBER {q:P2} ± {u:P2}, the emulator's truth {truth:P2}");
    }

    [Fact(Timeout = 600_000)]
    public async Task Monitor_on_a_bench_reads_the_emulators_qber_as_the_in_process_bench_does()
    {
        var profile = EmulatedBench.Profile(DistanceKm);
        using var bench = new EmulatedSerialBench(profile, EmulatedBench.TaggerOptions, 7);
        string file = BenchFile(bench);
        double truthZ = TrueQber(profile, Basis.Z), truthX = TrueQber(profile, Basis.X);

        var (code, output, error) = await Run("monitor", "--bench", file, "--distance-km", "10", "--duration-s", "0.004", "--interval-ms", "200",
            "--json", "--out", Path.Combine(_dir, "bench"));
        Assert.True(code == 0, error);
        using var onBench = JsonDocument.Parse(output);
        CalibrateSweepCommandTests.AssertMatchesSchema(onBench.RootElement, "monitor.schema.json");
        Assert.StartsWith("measured from", onBench.RootElement.GetProperty("timing").GetString());
        var last = onBench.RootElement.GetProperty("snapshots").EnumerateArray().Last();
        AssertNearTruth(last.GetProperty("qberZ"), last.GetProperty("qberZUncertainty"), truthZ, "bench Z");
        AssertNearTruth(last.GetProperty("qberX"), last.GetProperty("qberXUncertainty"), truthX, "bench X");
        Assert.True(last.GetProperty("inGateFraction").GetDouble() > 0.95, $"in gate: {last.GetProperty("inGateFraction")}");

        // The same bench in process (--emulator): the same physics, so the same number of detections within noise.
        (code, output, error) = await Run("monitor", "--emulator", "--distance-km", "10", "--duration-s", "0.004", "--interval-ms", "200",
            "--json", "--out", Path.Combine(_dir, "emulator"));
        Assert.True(code == 0, error);
        using var inProcess = JsonDocument.Parse(output);
        var reference = inProcess.RootElement.GetProperty("snapshots").EnumerateArray().Last();
        long benchDetections = last.GetProperty("detections").GetInt64(), emulatorDetections = reference.GetProperty("detections").GetInt64();
        Assert.True(emulatorDetections > 100_000, $"{emulatorDetections} detections in process");
        Assert.InRange(benchDetections, emulatorDetections - 5 * Math.Sqrt(emulatorDetections), emulatorDetections + 5 * Math.Sqrt(emulatorDetections));
        AssertNearTruth(reference.GetProperty("qberZ"), reference.GetProperty("qberZUncertainty"), truthZ, "in-process Z");
    }

    [Fact(Timeout = 600_000)]
    public async Task Alignment_on_a_bench_finds_each_basis_phase_keeping_the_other_from_the_last_calibration()
    {
        var profile = EmulatedBench.Profile(DistanceKm);
        // Uncalibrated phases: Z is aligned at 0.6 rad, X at -0.2 rad; the device starts at 0 in both.
        using var bench = new EmulatedSerialBench(profile, EmulatedBench.TaggerOptions, 11, EmulatedBench.Truth);
        string file = BenchFile(bench);
        string config = Path.Combine(_dir, "bench-calibration.json");
        double truthZ = TrueQber(profile, Basis.Z), truthX = TrueQber(profile, Basis.X);

        // Z first, X held at the phase given on the command line.
        var (code, output, error) = await Run("calibrate", "alignment", "--bench", file, "--distance-km", "10", "--basis", "Z", "--from-rad", "0.2",
            "--to-rad", "1.0", "--step-rad", "0.2", "--pulses", "1000000", "--other-phase-rad", "-0.2", "--write-config", config,
            "--out", Path.Combine(_dir, "z"), "--json");
        Assert.True(code == 0, error);
        using (var report = JsonDocument.Parse(output))
        {
            var root = report.RootElement;
            CalibrateSweepCommandTests.AssertMatchesSchema(root, "alignment-calibration.schema.json");
            Assert.Equal(0.6, root.GetProperty("optimumPhaseRadians").GetDouble(), 9);
            AssertNearTruth(root.GetProperty("minimumQber"), root.GetProperty("minimumQberUncertainty"), truthZ, "Z at its optimum");
            // X sits at its optimum throughout: sweeping Z leaves it at the truth.
            foreach (var step in root.GetProperty("steps").EnumerateArray())
                AssertNearTruth(step.GetProperty("qberX"), step.GetProperty("qberXUncertainty"), truthX, $"X while Z is at {step.GetProperty("phaseRadians")} rad");
        }
        var kept = DeviceCalibration.Load(config);
        Assert.Equal(0.6, kept.PhaseZRadians!.Value, 9);
        Assert.Equal(-0.2, kept.PhaseXRadians);

        // X next, Z from the last calibration (no --other-phase-rad): Z stays at the truth while X is swept. X sifts a
        // sixteenth of the bits Z does (Alice and Bob both choose Z 3 times in 4): three times the pulses.
        (code, output, error) = await Run("calibrate", "alignment", "--bench", file, "--distance-km", "10", "--basis", "X", "--from-rad", "-0.6",
            "--to-rad", "0.2", "--step-rad", "0.2", "--pulses", "3000000", "--config", config, "--write-config", config,
            "--out", Path.Combine(_dir, "x"), "--json");
        Assert.True(code == 0, error);
        using (var report = JsonDocument.Parse(output))
        {
            var root = report.RootElement;
            CalibrateSweepCommandTests.AssertMatchesSchema(root, "alignment-calibration.schema.json");
            Assert.Equal(0.6, root.GetProperty("otherBasisPhaseRadians").GetDouble(), 9);
            Assert.Equal(-0.2, root.GetProperty("optimumPhaseRadians").GetDouble(), 9);
            foreach (var step in root.GetProperty("steps").EnumerateArray())
                AssertNearTruth(step.GetProperty("qberZ"), step.GetProperty("qberZUncertainty"), truthZ, $"Z while X is at {step.GetProperty("phaseRadians")} rad");
        }

        // The monitor reads the calibration back: both bases at the truth.
        (code, output, error) = await Run("monitor", "--bench", file, "--distance-km", "10", "--config", config, "--duration-s", "0.002",
            "--interval-ms", "200", "--json", "--out", Path.Combine(_dir, "monitor"));
        Assert.True(code == 0, error);
        using (var report = JsonDocument.Parse(output))
        {
            var last = report.RootElement.GetProperty("snapshots").EnumerateArray().Last();
            AssertNearTruth(last.GetProperty("qberZ"), last.GetProperty("qberZUncertainty"), truthZ, "monitor Z");
            AssertNearTruth(last.GetProperty("qberX"), last.GetProperty("qberXUncertainty"), truthX, "monitor X");
        }
    }

    [Fact(Timeout = 600_000)]
    public async Task Delays_written_by_calibrate_delays_are_read_back_by_monitor_and_by_a_nodes_receiver_settings()
    {
        var profile = EmulatedBench.Profile(DistanceKm);
        using var bench = new EmulatedSerialBench(profile, EmulatedBench.TaggerOptions, 5);
        string file = BenchFile(bench);
        string delays = Path.Combine(_dir, "delays.json");

        var (code, _, error) = await Run("calibrate", "delays", "--bench", file, "--distance-km", "10", "--pulses", "2000000", "--write-config", delays,
            "--out", Path.Combine(_dir, "delays"));
        Assert.True(code == 0, error);

        // The node configuration it is for: Bob's "receiver" section reads the file as it is.
        var receiver = ReceiverSettings.Parse(File.ReadAllText(delays));
        Assert.Equal(new[] { 1, 2, 3, 4 }, receiver.DetectorChannels);
        Assert.Equal(EmulatedBench.DetectorDelaysPs, receiver.DetectorDelaysPs!, (a, b) => Math.Abs(a - b) <= 10);
        Assert.Equal(profile.FibreDelayPs, receiver.PathDelayPs, 6);
        var nodeClock = receiver.ClockRecovery(LinkSettings.Default);
        var labClock = LabReceiverTiming.FromDelays(DelayConfiguration.Load(delays), delays, profile, LinkSettings.Default).Clock;
        Assert.Equal(nodeClock.DetectorDelaysPs, labClock.DetectorDelaysPs);
        Assert.Equal(nodeClock.PathDelayPs, labClock.PathDelayPs);
        Assert.Equal(nodeClock.DetectorChannels, labClock.DetectorChannels);
        Assert.Equal(nodeClock.SyncChannel, labClock.SyncChannel);

        // The monitor with those delays (nothing measured first) reads the emulator's QBER.
        string output;
        (code, output, error) = await Run("monitor", "--bench", file, "--distance-km", "10", "--delays", delays, "--duration-s", "0.002",
            "--interval-ms", "200", "--json", "--out", Path.Combine(_dir, "monitor"));
        Assert.True(code == 0, error);
        using var report = JsonDocument.Parse(output);
        Assert.Equal(delays, report.RootElement.GetProperty("timing").GetString());
        var last = report.RootElement.GetProperty("snapshots").EnumerateArray().Last();
        AssertNearTruth(last.GetProperty("qberZ"), last.GetProperty("qberZUncertainty"), TrueQber(profile, Basis.Z), "monitor Z with --delays");
    }

    [Fact(Timeout = 600_000)]
    public async Task A_gate_sweep_that_misses_the_light_exits_non_zero_with_what_to_do_and_a_valid_report()
    {
        var (code, output, error) = await Run("calibrate", "gate", "--emulator", "--from-ps", "10000", "--to-ps", "12000", "--step-ps", "500",
            "--pulses", "500000", "--out", _dir, "--json");
        Assert.Equal(LabExitCode.InsufficientData, code);
        Assert.Contains("no gate delay stands out", error);
        using var report = JsonDocument.Parse(output);
        CalibrateSweepCommandTests.AssertMatchesSchema(report.RootElement, "gate-calibration.schema.json");
        Assert.Equal(JsonValueKind.Null, report.RootElement.GetProperty("optimumGateDelayPs").ValueKind);
        Assert.DoesNotContain("NaN", output);
        Assert.DoesNotContain("Infinity", output);
    }

    [Fact(Timeout = 600_000)]
    public async Task An_alignment_sweep_with_too_few_pulses_exits_non_zero_saying_how_many_are_needed()
    {
        var (code, output, error) = await Run("calibrate", "alignment", "--emulator", "--basis", "X", "--from-rad", "-0.4", "--to-rad", "0",
            "--step-rad", "0.2", "--pulses", "20000", "--out", _dir, "--json");
        Assert.Equal(LabExitCode.InsufficientData, code);
        Assert.Contains($"fewer than {AlignmentSweep.MinimumSiftedPerStep} bits in the X basis", error);
        Assert.Contains("pulses per step (--pulses)", error);
        using var report = JsonDocument.Parse(output);
        CalibrateSweepCommandTests.AssertMatchesSchema(report.RootElement, "alignment-calibration.schema.json");
        Assert.Equal(JsonValueKind.Null, report.RootElement.GetProperty("optimumPhaseRadians").ValueKind);
    }
}
