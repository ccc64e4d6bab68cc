using Qkd.Hardware.Peripherals;
using Qkd.Node.Devices;
using Qkd.Node.Link;
using Qkd.Node.Service;
using Qkd.Protocol;

namespace Qkd.Node.Tests.Service;

/// <summary>
/// The "devices" section of a node config (real devices, in the lab tools' bench format) against "emulator", and the
/// "link" and "receiver" sections that a node on devices takes its settings from: every problem names the field.
/// </summary>
public sealed class NodeConfigDevicesTests
{
    private const string Receiver = """
        "receiver": { "detectorChannels": [1, 2, 3, 4], "detectorDelaysPs": [10, 20, 30, 40], "pathDelayPs": 9793442, "gateWidthPs": 400 },
        """;

    [Fact]
    public void Bob_on_devices_reads_his_devices_link_and_receiver_settings()
    {
        var config = NodeConfig.Load(Write("bob", """
            "devices": { "detector": { "serialPort": "/dev/ttyACM0" }, "tagger": { "usbSerialNumber": "TT-0042" }, "replyTimeoutMs": 2000 },
            "link": { "pulseRateHz": 2e6, "pulsesPerSync": 64, "aliceProbabilityZ": 0.6 },
            """ + Receiver));
        Assert.Null(config.Emulator);
        Assert.Equal("/dev/ttyACM0", config.Devices!.Detector!.SerialPort);
        Assert.Equal("TT-0042", config.Devices.Tagger!.UsbSerialNumber);
        var settings = config.LinkSettings();
        Assert.Equal(2e6, settings.PulseRateHz);
        Assert.Equal(0.6, settings.AliceProbabilityZ);
        Assert.Equal(0.65, settings.SignalProbability); // absent: the default
        Assert.Equal(config.BlockSizeBits, settings.BlockSizeBits);
        var clock = config.ReceiverClock(settings);
        Assert.Equal(2e6, clock.PulseRateHz);
        Assert.Equal(64, clock.SyncDivider);
        Assert.Equal([10L, 20, 30, 40], clock.DetectorDelaysPs);
        Assert.Equal(9793442, clock.PathDelayPs);
        Assert.Equal(400, clock.GateWidthPs);
    }

    [Theory]
    [InlineData("alice", "", "exactly one of \"devices\" (real devices) and \"emulator\" is required")]
    [InlineData("alice", "'devices': { 'modulator': { 'serialPort': '/dev/ttyACM0' } }, 'emulator': { 'fibre': '127.0.0.1:7002' },",
        "exactly one of \"devices\" (real devices) and \"emulator\" is required")]
    [InlineData("alice", "'devices': { 'tagger': { 'serialPort': '/dev/ttyACM1' } },", "devices: \"modulator\" is required (Alice's node needs a modulator)")]
    [InlineData("alice", "'devices': { 'modulator': { 'serialPort': '/dev/ttyACM0' }, 'tagger': { 'serialPort': '/dev/ttyACM1' } },",
        "devices: \"tagger\" belongs to Bob's node, not to Alice's node")]
    [InlineData("bob", "'devices': { 'detector': { 'serialPort': '/dev/ttyACM0' } }," + Receiver, "devices: \"tagger\" is required (Bob's node needs a tagger)")]
    [InlineData("bob", "'devices': { 'detector': { 'serialPort': '/dev/ttyACM0' }, 'tagger': { 'serialPort': '' } }," + Receiver,
        "devices: the tagger's \"serialPort\" is empty")]
    [InlineData("bob", "'devices': { 'detector': { 'serialPort': '/dev/a' }, 'tagger': { 'serialPort': '/dev/b' } },",
        "receiver is required for Bob on devices")]
    [InlineData("bob", "'devices': { 'detector': { 'serialPort': '/dev/a' }, 'tagger': { 'serialPort': '/dev/b' } }, 'receiver': { 'detectorChannels': [0, 2, 3, 4] },",
        "receiver.detectorChannels: Detector 0 is on channel 0, which is the sync channel.")]
    [InlineData("bob", "'devices': { 'detector': { 'serialPort': '/dev/a' }, 'tagger': { 'serialPort': '/dev/b' } }, 'receiver': { 'detectorChannels': [1, 2] },",
        "receiver.detectorChannels must list the 4 detectors")]
    [InlineData("bob", "'devices': { 'detector': { 'serialPort': '/dev/a' }, 'tagger': { 'serialPort': '/dev/b' } }, 'link': { 'pulsesPerSync': 0 }," + Receiver,
        "link.pulsesPerSync must lie in [1, 1048576], got 0")]
    [InlineData("bob", "'emulator': { 'fibre': '127.0.0.1:7002' }," + Receiver, "receiver applies to devices")]
    [InlineData("bob", "'devices': { 'detector': { 'serialPort': '/dev/a' }, 'tagger': { 'serialPort': '/dev/b' } }, 'receiver': { 'layout': 'activeTwoDetector' },",
        "receiver.basisMarkerChannel is required for an active receiver")]
    [InlineData("bob", "'devices': { 'detector': { 'serialPort': '/dev/a' }, 'tagger': { 'serialPort': '/dev/b' } }, 'receiver': { 'layout': 'activeTwoDetector', 'basisMarkerChannel': 2 },",
        "receiver.basisMarkerChannel: The basis marker is on channel 2, which is the sync or a detector channel.")]
    [InlineData("bob", "'devices': { 'detector': { 'serialPort': '/dev/a' }, 'tagger': { 'serialPort': '/dev/b' } }, 'receiver': { 'layout': 'activeTwoDetector', 'basisMarkerChannel': 7, 'detectorChannels': [1, 2, 3, 4] },",
        "receiver.detectorChannels must list the 2 detectors of an active receiver")]
    [InlineData("bob", "'devices': { 'detector': { 'serialPort': '/dev/a' }, 'tagger': { 'serialPort': '/dev/b' } }, 'receiver': { 'layout': 'activeTwoDetector', 'basisMarkerChannel': 7, 'basisProbabilityZ': 1 },",
        "receiver.basisProbabilityZ 1 is outside (0, 1)")]
    [InlineData("bob", "'devices': { 'detector': { 'serialPort': '/dev/a' }, 'tagger': { 'serialPort': '/dev/b' } }, 'receiver': { 'basisMarkerChannel': 7 },",
        "receiver.basisMarkerChannel applies to an active receiver only")]
    public void Problems_name_the_field(string role, string sections, string problem)
    {
        string path = Write(role, sections.Replace('\'', '"'));
        var e = Assert.Throws<InvalidDataException>(() => NodeConfig.Load(path));
        Assert.Contains(problem, e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Peripheral_fields_a_config_leaves_out_keep_their_declared_defaults()
    {
        var config = NodeConfig.Load(Write("bob", """
            "devices": { "detector": { "serialPort": "/dev/a" }, "tagger": { "serialPort": "/dev/b" },
                         "peripherals": { "temperatureSensor": {} } },
            """ + Receiver));
        var peripherals = config.Devices!.Peripherals!;
        Assert.Equal(new PeripheralsConfig().PollIntervalMs, peripherals.PollIntervalMs);
        Assert.Equal(new TemperatureSensorConfig(), peripherals.TemperatureSensor);
    }

    [Fact]
    public void The_block_size_is_not_part_of_the_link_section()
    {
        var e = Assert.Throws<InvalidDataException>(() => NodeConfig.Load(Write("alice", """
            "devices": { "modulator": { "serialPort": "/dev/ttyACM0" } }, "link": { "blockSizeBits": 65536 },
            """)));
        Assert.Contains("top-level blockSizeBits", e.Message);
    }

    [Fact]
    public void A_device_that_is_absent_is_named_with_its_port_and_the_config_file()
    {
        string missing = $"/dev/qkd-test-missing-{Guid.NewGuid():N}";
        var bench = new DeviceBench { Detector = new DeviceAddress { SerialPort = missing }, Tagger = new DeviceAddress { SerialPort = missing + "-tagger" } };
        using var devices = NodeDevices.Create(bench, alice: false, "/etc/qkd/bob.json");
        var e = Assert.ThrowsAny<DeviceException>(() => devices.ConnectAndConfigure(new ReceiverSettings()));
        Assert.Contains(missing, e.Message);
        Assert.Contains("/etc/qkd/bob.json", e.Message);
    }

    [Fact]
    public void A_link_bench_folder_becomes_two_configs_on_its_devices()
    {
        if (!OperatingSystem.IsLinux()) Assert.Skip("The link bench uses Linux pseudo-terminals.");
        string bench = Directory.CreateTempSubdirectory("qkd-link-bench").FullName;
        string deployment = Directory.CreateTempSubdirectory("qkd-bench-deployment").FullName;
        var settings = EmulatedLinkBench.SettingsFor(1e6);
        using (var linkBench = new EmulatedLinkBench(Emulation.LinkProfile.Default.WithDistance(2), settings, new Emulation.TimeTagging.EmulatedTimeTaggerOptions(), 3))
        {
            linkBench.WriteTo(bench);
            var (alicePath, bobPath) = NodeSetup.Write(deployment, 7100, 30, 0, NodeSetup.BenchBlockSizeBits, benchDirectory: bench);
            var alice = NodeConfig.Load(alicePath);
            var bob = NodeConfig.Load(bobPath);
            Assert.Equal(linkBench.AliceBench.Modulator, alice.Devices!.Modulator);
            Assert.Null(alice.Devices.Tagger);
            Assert.Equal(linkBench.BobBench.Tagger, bob.Devices!.Tagger);
            Assert.Null(alice.Emulator);
            Assert.Equal(settings with { BlockSizeBits = NodeSetup.BenchBlockSizeBits }, alice.LinkSettings());
            Assert.Equal(alice.LinkSettings(), bob.LinkSettings());
            Assert.Equal(linkBench.Receiver.PathDelayPs, bob.ReceiverClock(bob.LinkSettings()).PathDelayPs);
        }
        // The bench has gone: a folder without its files is refused, naming the file, and nothing is written.
        File.Delete(Path.Combine(bench, EmulatedLinkBench.BobFile));
        string other = Path.Combine(deployment, "again");
        var e = Assert.Throws<InvalidDataException>(() => NodeSetup.Write(other, benchDirectory: bench));
        Assert.Contains(EmulatedLinkBench.BobFile, e.Message);
        Assert.False(Directory.Exists(other) && Directory.EnumerateFileSystemEntries(other).Any());
    }

    private static string Write(string role, string sections)
    {
        string dir = Directory.CreateTempSubdirectory("qkd-node-config").FullName;
        string path = Path.Combine(dir, role + ".json");
        File.WriteAllText(path, $$"""
            {
              "role": "{{role}}",
              "linkId": "config-test",
              "keyPool": { "database": "keys.db", "operatorKeyFile": "operator.key" },
              {{sections}}
              "classicalChannel": { "endpoint": "127.0.0.1:7001", "preSharedSecretFile": "pre-shared.secret" }
            }
            """);
        return path;
    }
}
