using Qkd.Hardware.Peripherals;
using Qkd.Node.Devices;
using Qkd.ClassicalChannel;
using Qkd.Hardware.RandomNumberGenerator;
using Qkd.Lab.Run;
using Qkd.Acquisition.Replay;
using Qkd.Core.TimeTags;
using Qkd.Emulation;
using Qkd.Node.Link;

namespace Qkd.Node.Tests;

/// <summary>`qkd record` then `qkd run --replay`: the replayed stream distils to exactly what the live run gives.</summary>
public sealed class RecordingTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "qkd-recording-tests-" + Guid.NewGuid().ToString("N"));

    public RecordingTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact(Timeout = 600_000)]
    public async Task Replaying_a_recording_gives_the_live_run_key()
    {
        var live = new EmulatedRunOptions
        {
            Profile = LinkProfile.Default.WithDistance(25),
            DurationSeconds = 0.2,
            Seed = 21,
            Settings = LinkSettings.Default with { BlockSizeBits = 1L << 21 },
            KeysDirectory = Path.Combine(_dir, "keys"),
        };
        string file = Path.Combine(_dir, "run.qtt");
        long tags = Recording.Write(live, file);
        Assert.True(tags > 1_000_000);

        var replay = Recording.ReadRunOptions(file, live.KeysDirectory, live.Settings.BlockSizeBits);
        Assert.Equal(live.Seed, replay.Seed);
        Assert.Equal(live.Settings, replay.Settings); // the link settings travel in the recording's metadata
        Assert.Equal(live.Profile, replay.Profile);
        Assert.Equal(live.DurationSeconds, replay.DurationSeconds, 12);
        var ct = TestContext.Current.CancellationToken;
        var fromFile = await new EmulatedLinkRunner(replay).RunAsync(cancellationToken: ct);
        var fromEmulator = await new EmulatedLinkRunner(live).RunAsync(cancellationToken: ct);

        Assert.True(fromFile.SecretBits > 0, fromFile.Reason);
        Assert.True(fromFile.IdenticalKeys);
        Assert.Equal(fromEmulator.Detections, fromFile.Detections);
        Assert.Equal(fromEmulator.SecretBits, fromFile.SecretBits);
        Assert.Contains("replayed", fromFile.Receiver.Path);
        Assert.Equal(tags, fromFile.Receiver.Acquisition!.Tags);
    }

    [Fact]
    public void A_recording_without_emitter_metadata_is_refused_with_the_reason()
    {
        string file = Path.Combine(_dir, "lab.qtt");
        var header = new TimeTagFileHeader(1, [new TimeTagChannelDescription(0, "sync", TimeTagChannelRole.Sync)], DateTimeOffset.UtcNow);
        using (var writer = TimeTagFileWriter.Create(file, header))
            writer.Write([new TimeTag(1000, 0)]);
        var e = Assert.Throws<ArgumentException>(() => Recording.ReadRunOptions(file, _dir, 1 << 20));
        Assert.Contains("qkd.profile", e.Message);
        Assert.Contains("cannot be distilled", e.Message);
    }
}
