using System.Text.Json;
using Qkd.Acquisition.Replay;
using Qkd.Core.TimeTags;
using Qkd.Lab.Run;
using Qkd.Node.Devices;
using Qkd.Node.Link;

namespace Qkd.Cli.Tests;

/// <summary>
/// `qkd record --bench` records real devices: here `qkd emulate --link-bench`'s devices in another process, on
/// pseudo-terminals, driven through System.IO.Ports and the drivers as hardware is. Nothing is emulated in the
/// recording process: the tags carry the bench's 1 MHz clock, and the file replays through `qkd run --replay` with the
/// bench's receiver wiring to the bench's QBER.
/// </summary>
public sealed class RecordBenchTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("qkd-record-bench").FullName;
    private readonly List<QkdProcess> _processes = [];

    public void Dispose()
    {
        foreach (var p in _processes) p.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    [Fact(Timeout = 300_000)]
    public async Task Record_on_a_link_bench_drives_its_devices_and_the_file_replays_to_the_bench_qber()
    {
        if (!OperatingSystem.IsLinux()) Assert.Skip("The link bench uses Linux pseudo-terminals.");
        string bench = Path.Combine(_dir, "bench"), file = Path.Combine(_dir, "bench.qtt");
        var emulate = QkdProcess.Start(_dir, "emulate", "--link-bench", bench);
        _processes.Add(emulate);
        emulate.WaitFor("Link bench in", TimeSpan.FromSeconds(120));
        var settings = LinkSettings.Parse(File.ReadAllText(Path.Combine(bench, EmulatedLinkBench.SettingsFile)));
        var receiver = ReceiverSettings.Parse(File.ReadAllText(Path.Combine(bench, EmulatedLinkBench.ReceiverFile)));

        var (code, output, error) = await Cli.Run("record", "--bench", bench, "--duration-s", "0.3", "--out", file);

        Assert.True(code == 0, error);
        Assert.Contains("/dev/pts/", output);
        long pulses = (long)Math.Round(0.3 * settings.PulseRateHz);
        using (var reader = TimeTagFileReader.Open(file))
        {
            var header = reader.Header;
            Assert.Contains("/dev/pts/", header.FindMetadata(Recording.SourceKey));
            Assert.Equal(Recording.LightOn, header.FindMetadata(Recording.LightKey));
            Assert.Equal(pulses.ToString(System.Globalization.CultureInfo.InvariantCulture), header.FindMetadata(Recording.PulsesKey));
            Assert.Equal(receiver.DetectorDelaysPs, ReceiverSettings.Parse(header.FindMetadata(Recording.ReceiverKey)!).DetectorDelaysPs);
            Assert.Equal(receiver.DetectorDelaysPs![0], header.Channels.Single(c => c.Channel == receiver.DetectorChannels[0]).DelayPs);

            var tags = new List<TimeTag>();
            var buffer = new TimeTag[4096];
            int n;
            while ((n = reader.Read(buffer, TestContext.Current.CancellationToken)) > 0) tags.AddRange(buffer.AsSpan(0, n));
            Assert.True(reader.Integrity.IsIntact);
            // The bench's clock, not the in-process emulator's 1 GHz: one sync per emitted 64 pulses, 64 µs apart.
            var syncs = tags.Where(t => t.IsEvent && t.Channel == receiver.SyncChannel).Select(t => t.TimePs).ToArray();
            Assert.Equal((pulses + settings.PulsesPerSync - 1) / settings.PulsesPerSync, syncs.Length);
            double period = (syncs[^1] - syncs[0]) / (double)(syncs.Length - 1);
            Assert.InRange(period, 0.999 * settings.PulsesPerSync * settings.PulsePeriodPs, 1.001 * settings.PulsesPerSync * settings.PulsePeriodPs);
            foreach (int channel in receiver.DetectorChannels)
                Assert.True(tags.Count(t => t.IsEvent && t.Channel == channel) > 500, $"detector channel {channel} recorded almost nothing");
        }

        string report = Path.Combine(_dir, "replay.json");
        (code, _, error) = await Cli.Run("run", "--replay", file, "--quiet", "--block-size", "4096", "--keys-dir", Path.Combine(_dir, "keys"), "--report", report);
        Assert.True(code is 0 or 2, error);
        using var json = JsonDocument.Parse(File.ReadAllText(report));
        var root = json.RootElement;
        Assert.True(root.GetProperty("recording").GetProperty("intact").GetBoolean());
        // Clock recovery with the bench's receiver wiring places nearly every detection, and the QBER is the bench's (a
        // few percent: the emulated link's misalignment and dark counts), not the 50 % of a wrong timing.
        var clock = root.GetProperty("receiver").GetProperty("clockRecovery");
        Assert.True(clock.GetProperty("assignedTags").GetInt64() > 0.95 * (clock.GetProperty("tags").GetInt64() - clock.GetProperty("syncTags").GetInt64()));
        Assert.InRange(root.GetProperty("qberX").GetDouble(), 0, 0.05);
        Assert.Equal(2.0, root.GetProperty("profile").GetProperty("fibreLengthKm").GetDouble(), 1);

        emulate.Terminate();
        Assert.True(emulate.Process.WaitForExit(TimeSpan.FromSeconds(60)), "the link bench did not stop on SIGTERM");
    }

    [Fact]
    public async Task A_bench_has_no_shutter_the_host_closes()
    {
        var (code, _, error) = await Cli.Run("record", "--bench", _dir, "--shutter", "--out", Path.Combine(_dir, "x.qtt"));

        Assert.Equal(1, code);
        Assert.Contains("--light-blocked", error);
    }

    [Fact]
    public async Task Record_needs_exactly_one_source()
    {
        var (code, _, error) = await Cli.Run("record", "--out", Path.Combine(_dir, "x.qtt"));

        Assert.Equal(1, code);
        Assert.Contains("--bench", error);
        Assert.False(File.Exists(Path.Combine(_dir, "x.qtt")));
    }
}
