using Qkd.Core.TimeTags;
using Qkd.Emulation;
using Qkd.Emulation.TimeTagging;
using Qkd.Node.Devices;
using Qkd.Lab;

namespace Qkd.Lab.Tests;

/// <summary>Bench files (where a bench's devices are) and the emulated devices served on serial ports.</summary>
public sealed class DeviceBenchTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("qkd-bench").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string json)
    {
        string path = Path.Combine(_dir, Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public void A_bench_file_round_trips()
    {
        var bench = new DeviceBench
        {
            Description = "bench 1",
            Modulator = new DeviceAddress { UsbSerialNumber = "MOD-0001" },
            Detector = new DeviceAddress { SerialPort = "/dev/qkd/detector-SPD-0001-tty", BaudRate = 921_600 },
            Tagger = new DeviceAddress { UsbSerialNumber = "TT-0042" },
            ReplyTimeoutMs = 2_000,
        };
        Assert.Equal(bench, DeviceBench.Load(Write(bench.ToJson())));
    }

    [Fact]
    public void A_bench_reply_timeout_is_optional_and_bounded()
    {
        const string Devices = "\"modulator\": { \"usbSerialNumber\": \"M\" }, \"detector\": { \"serialPort\": \"/dev/ttyACM0\" }, \"tagger\": { \"usbSerialNumber\": \"T\" }";
        Assert.Null(DeviceBench.Parse("{ " + Devices + " }").ReplyTimeoutMs);
        Assert.Equal(5_000, DeviceBench.Parse("{ " + Devices + ", \"replyTimeoutMs\": 5000 }").ReplyTimeoutMs);
        var e = Assert.Throws<InvalidDataException>(() => DeviceBench.Parse("{ " + Devices + ", \"replyTimeoutMs\": 10 }"));
        Assert.Contains("replyTimeoutMs 10 is outside 50..60000", e.Message);
    }

    [Theory]
    [InlineData("""{ "modulator": { "usbSerialNumber": "M" }, "detector": { "serialPort": "/dev/ttyACM0" } }""", "tagger")]
    [InlineData("""{ "modulator": { "usbSerialNumber": "M", "serialPort": "/dev/ttyACM1" }, "detector": { "serialPort": "/dev/ttyACM0" }, "tagger": { "usbSerialNumber": "T" } }""", "the modulator needs exactly one")]
    [InlineData("""{ "modulator": {}, "detector": { "serialPort": "/dev/ttyACM0" }, "tagger": { "usbSerialNumber": "T" } }""", "the modulator needs exactly one")]
    [InlineData("""{ "modulator": { "usbSerialNumber": "M" }, "detector": { "serialPort": "/dev/ttyACM0", "baudRate": 7 }, "tagger": { "usbSerialNumber": "T" } }""", "baudRate\" 7")]
    [InlineData("""{ "modulator": { "usbSerialNumber": "M", "baudRate": 9600 }, "detector": { "serialPort": "/dev/ttyACM0" }, "tagger": { "usbSerialNumber": "T" } }""", "serial port only")]
    [InlineData("""{ "modulator": { "usbSerialNumber": "M" }, "detector": { "serialPort": "/dev/ttyACM0" }, "tagger": { "usbSerialNumber": "T" }, "laser": 1 }""", "laser")]
    [InlineData("""{ "modulator": { "usbSerialNumber": " " }, "detector": { "serialPort": "/dev/ttyACM0" }, "tagger": { "usbSerialNumber": "T" } }""", "usbSerialNumber\" is empty")]
    [InlineData("""[1, 2]""", "DeviceBench")]
    public void A_bad_bench_file_is_refused_naming_the_file_and_the_problem(string json, string expected)
    {
        string path = Write(json);
        var e = Assert.Throws<InvalidDataException>(() => DeviceBench.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void A_missing_bench_file_is_named()
    {
        var e = Assert.Throws<FileNotFoundException>(() => DeviceBench.Load("/nonexistent/bench.json"));
        Assert.Contains("/nonexistent/bench.json", e.Message);
    }

    [Fact(Timeout = 120_000)]
    public void A_capture_on_the_emulated_serial_bench_equals_the_in_process_capture_tag_for_tag()
    {
        // Same physics, seed and settings; one rig reached through in-process packets, the other through three serial
        // ports found from a bench file (System.IO.Ports on pseudo-terminals), ended by the emission window.
        var profile = LinkProfile.Default.WithDistance(10);
        var wiring = new EmulatedTimeTaggerOptions { DetectorDelaysPs = [1_234, 2_345, 3_456, 4_567] };
        var options = new LabCaptureOptions { Profile = profile, Tagger = wiring, Seed = 5, Pulses = 2_000_000 };
        var inProcess = LabTagCapture.Capture(options, TestContext.Current.CancellationToken);

        using var served = new EmulatedSerialBench(profile, wiring, 5);
        string file = Write(served.Bench.ToJson());
        var onBench = LabTagCapture.Capture(options with { Bench = DeviceBench.Load(file) }, TestContext.Current.CancellationToken);

        Assert.True(inProcess.Count > 10_000, $"{inProcess.Count} tags");
        Assert.Equal(inProcess.Span.ToArray(), onBench.Span.ToArray());
        Assert.Contains("/dev/pts/", onBench.Source);
    }
}
