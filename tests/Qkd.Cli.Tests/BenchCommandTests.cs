using System.CommandLine;
using System.Text.Json;
using Qkd.Cli.Commands;
using Qkd.Node.Devices;
using Qkd.Node.Link;

namespace Qkd.Cli.Tests;

/// <summary>
/// The lab commands on a device bench (`--bench FILE`), here the emulated devices served on serial ports as
/// `qkd emulate` serves them: the commands open the ports named in the file and drive them as hardware.
/// </summary>
public sealed class BenchCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("qkd-bench-cli").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Task<(int Code, string Output, string Error)> Run(params string[] args) => Cli.Run(args);

    private string BenchFile(EmulatedSerialBench bench)
    {
        string file = Path.Combine(_dir, "bench.json");
        File.WriteAllText(file, bench.Bench.ToJson());
        return file;
    }

    [Fact(Timeout = 120_000)]
    public async Task Delay_calibration_on_a_bench_finds_its_cable_delays()
    {
        using var bench = new EmulatedSerialBench(EmulatedBench.Profile(10), EmulatedBench.TaggerOptions, 3);

        var (code, output, error) = await Run("calibrate", "delays", "--bench", BenchFile(bench), "--out", _dir, "--json");

        Assert.True(code == 0, error);
        using var report = JsonDocument.Parse(output);
        CalibrateSweepCommandTests.AssertMatchesSchema(report.RootElement, "delay-calibration.schema.json");
        Assert.Contains("/dev/pts/", report.RootElement.GetProperty("source").GetString());
        var detectors = report.RootElement.GetProperty("detectors").EnumerateArray().ToList();
        for (int d = 0; d < 4; d++)
        {
            Assert.InRange(detectors[d].GetProperty("delayPs").GetDouble(), EmulatedBench.DetectorDelaysPs[d] - 10, EmulatedBench.DetectorDelaysPs[d] + 10);
            // A bench's truth is its own: the report compares with nothing.
            Assert.Equal(JsonValueKind.Null, detectors[d].GetProperty("trueDelayPs").ValueKind);
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task Gate_sweep_and_monitor_drive_a_bench()
    {
        using var bench = new EmulatedSerialBench(EmulatedBench.Profile(10), EmulatedSetup.TaggerOptionsFor(LinkSettings.Default, long.MaxValue), 4, EmulatedBench.Truth);
        string file = BenchFile(bench);

        string calibration = Path.Combine(_dir, "bench-calibration.json");
        var (code, output, error) = await Run("calibrate", "gate", "--bench", file, "--from-ps", "29000", "--to-ps", "33000", "--step-ps", "500",
            "--pulses", "1000000", "--write-config", calibration, "--out", _dir, "--json");
        Assert.True(code == 0, error);
        double truth = EmulatedBench.Truth.LightArrivalPs!.Value - 500; // gate centred on the light
        using (var report = JsonDocument.Parse(output))
            Assert.InRange(report.RootElement.GetProperty("optimumGateDelayPs").GetInt64(), truth - 500, truth + 500);
        Assert.InRange(Qkd.Hardware.Devices.DeviceCalibration.Load(calibration).GateDelayPs!.Value, truth - 500, truth + 500);

        // The sweep left the gate at its last step, off the light: the monitor sets the calibrated gate back (--config).
        (code, output, error) = await Run("monitor", "--bench", file, "--config", calibration, "--duration-s", "0.002", "--interval-ms", "50", "--json", "--out", _dir);
        Assert.True(code == 0, error);
        using (var report = JsonDocument.Parse(output))
            Assert.NotEmpty(report.RootElement.GetProperty("snapshots").EnumerateArray());
    }

    [Fact]
    public async Task A_bench_whose_devices_are_not_there_is_a_clear_error()
    {
        string file = Path.Combine(_dir, "gone.json");
        File.WriteAllText(file, """{ "modulator": { "serialPort": "/dev/nonexistent-qkd-0" }, "detector": { "serialPort": "/dev/nonexistent-qkd-1" }, "tagger": { "serialPort": "/dev/nonexistent-qkd-2" } }""");

        var (code, _, error) = await Run("histogram", "--bench", file, "--out", _dir);

        Assert.Equal(1, code);
        Assert.Contains("/dev/nonexistent-qkd-0", error);
    }

    [Fact]
    public async Task Two_sources_at_once_are_refused()
    {
        var (code, _, error) = await Run("calibrate", "gate", "--emulator", "--bench", Path.Combine(_dir, "x.json"));
        Assert.Equal(1, code);
        Assert.Contains("exactly one source", error);
    }
}
