using Qkd.Emulation;
using Qkd.Emulation.TimeTagging;
using Qkd.Hardware.Devices;
using Qkd.Node.Devices;
using Qkd.Node.Link;
using Qkd.Node.Service;

namespace Qkd.Node.Tests.Devices;

/// <summary>
/// A node on devices applies the calibration file the lab's sweeps wrote (`qkd calibrate gate|alignment
/// --write-config`): Alice's modulator phases, Bob's detector gate, through the real drivers on emulated devices behind
/// pseudo-terminals; a missing or damaged file is a configuration problem naming it.
/// </summary>
public sealed class NodeCalibrationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("qkd-node-calibration").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact(Timeout = 120_000)]
    public void The_calibration_file_sets_alices_phases_and_bobs_gate_when_the_devices_are_configured()
    {
        if (!OperatingSystem.IsLinux()) Assert.Skip("The serial bench uses Linux pseudo-terminals.");
        string file = Path.Combine(_dir, "bench-cal.json");
        new DeviceCalibration(GateDelayPs: 31_500, GateWidthPs: 400, PhaseZRadians: 0.6, PhaseXRadians: -0.2).Save(file);
        var calibration = DeviceCalibration.Load(file);
        using var bench = new EmulatedSerialBench(LinkProfile.Default.WithDistance(10), new EmulatedTimeTaggerOptions(), 5);

        using (var alice = NodeDevices.Create(bench.Bench with { Detector = null, Tagger = null }, alice: true, "alice.json", calibration))
        {
            alice.ConnectAndConfigure(null);
            Assert.Equal(600, bench.Devices.Modulator.PhaseMilliradians(0));
            Assert.Equal(-200, bench.Devices.Modulator.PhaseMilliradians(1));
        }
        using (var bob = NodeDevices.Create(bench.Bench with { Modulator = null }, alice: false, "bob.json", calibration))
        {
            bob.ConnectAndConfigure(new ReceiverSettings());
            Assert.True(bench.Devices.Detector.IsGated);
            for (int head = 0; head < 4; head++)
            {
                Assert.Equal(31_500, bench.Devices.Detector.GateDelayPs(head));
                Assert.Equal(400, bench.Devices.Detector.GateWidthPs(head));
            }
        }
    }

    [Fact]
    public void A_calibration_file_round_trips_and_a_bad_one_is_named()
    {
        string file = Path.Combine(_dir, "cal.json");
        var written = DeviceCalibration.Empty.WithPhase(Core.Basis.X, 1.25) with { GateDelayPs = 100 };
        written.Save(file);
        Assert.Equal(written, DeviceCalibration.Load(file));

        File.WriteAllText(file, """{ "gateDelayPs": 1, "phaseZRadians": 9 }""");
        var e = Assert.Throws<ArgumentException>(() => DeviceCalibration.Load(file));
        Assert.Contains(file, e.Message);
        Assert.Contains("phaseZRadians", e.Message);
        File.WriteAllText(file, """{ "gateDelay": 1 }""");
        Assert.Contains("not a calibration file", Assert.Throws<ArgumentException>(() => DeviceCalibration.Load(file)).Message);
    }

    [Fact]
    public void A_node_config_names_a_missing_calibration_file_and_refuses_one_on_the_emulator()
    {
        string missing = Write("alice", """ "devices": { "modulator": { "serialPort": "/dev/ttyACM0" } }, "calibration": "nowhere.json", """);
        var e = Assert.Throws<InvalidDataException>(() => NodeConfig.Load(missing));
        Assert.Contains("calibration:", e.Message);
        Assert.Contains("nowhere.json", e.Message);

        string emulated = Write("alice", """ "emulator": { "fibre": "127.0.0.1:7002" }, "calibration": "cal.json", """);
        Assert.Contains("calibration applies to devices", Assert.Throws<InvalidDataException>(() => NodeConfig.Load(emulated)).Message);

        string good = Write("alice", """ "devices": { "modulator": { "serialPort": "/dev/ttyACM0" } }, "calibration": "cal.json", """);
        new DeviceCalibration(null, null, 0.5, null).Save(Path.Combine(Path.GetDirectoryName(good)!, "cal.json"));
        Assert.Equal(0.5, NodeConfig.Load(good).LoadCalibration()!.PhaseZRadians);
    }

    private string Write(string role, string sections)
    {
        string dir = Directory.CreateDirectory(Path.Combine(_dir, Guid.NewGuid().ToString("N"))).FullName;
        string path = Path.Combine(dir, role + ".json");
        File.WriteAllText(path, $$"""
            {
              "role": "{{role}}",
              "linkId": "calibration-test",
              "keyPool": { "database": "keys.db", "operatorKeyFile": "operator.key" },
              {{sections}}
              "classicalChannel": { "endpoint": "127.0.0.1:7001", "preSharedSecretFile": "pre-shared.secret" }
            }
            """);
        return path;
    }
}
