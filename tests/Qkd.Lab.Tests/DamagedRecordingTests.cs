using Qkd.Acquisition.Replay;
using Qkd.Core.TimeTags;
using Qkd.Emulation;
using Qkd.Lab.Run;
using Qkd.Node.Link;

namespace Qkd.Lab.Tests;

/// <summary>
/// Recordings that are cut off or damaged, and recordings whose light is not known to be blocked, through the Lab
/// layer every tool reads them by: refused unless the damage is accepted, then measured over the time they cover.
/// </summary>
public sealed class DamagedRecordingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("qkd-damaged-recording").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Record(string name, double seconds, bool lightBlocked = false)
    {
        string path = Path.Combine(_dir, name);
        var options = new EmulatedRunOptions
        {
            // 1 km: the light's 5 µs in the fibre (no detections yet, syncs already) is negligible against the recording.
            Profile = LinkProfile.Default.WithDistance(1),
            Settings = LinkSettings.Default,
            DurationSeconds = seconds,
            Seed = 11,
            KeysDirectory = _dir,
        };
        Recording.Write(options, path, lightBlocked);
        return path;
    }

    private string Half(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        string half = Path.Combine(_dir, "half-" + Path.GetFileName(path));
        File.WriteAllBytes(half, bytes[..(bytes.Length / 2)]);
        return half;
    }

    [Fact]
    public void A_lab_capture_of_a_recording_cut_in_half_is_refused_naming_the_truncation()
    {
        string half = Half(Record("link.qtt", 0.004));

        var e = Assert.Throws<DamagedRecordingException>(() => LabTagCapture.Capture(new LabCaptureOptions { ReplayFile = half }, TestContext.Current.CancellationToken));

        Assert.Contains("truncated", e.Message);
        Assert.Contains(half, e.Message);
        Assert.Contains("--accept-damaged", e.Message);
        Assert.False(e.Report.Intact);
        Assert.Equal(0.004, e.Report.ClaimedSeconds!.Value, 9);
    }

    [Fact]
    public void An_accepted_damaged_recording_is_measured_over_the_time_it_covers()
    {
        string full = Record("link.qtt", 0.004);
        var whole = LabTagCapture.Capture(new LabCaptureOptions { ReplayFile = full }, TestContext.Current.CancellationToken);
        string half = Half(full);

        var capture = LabTagCapture.Capture(new LabCaptureOptions { ReplayFile = half, AcceptDamaged = true }, TestContext.Current.CancellationToken);

        var recording = Assert.IsType<RecordingIntegrityReport>(capture.Recording);
        Assert.False(recording.Intact);
        Assert.True(recording.Truncated);
        Assert.True(recording.Accepted);
        Assert.Equal(whole.Recording!.TagsRead, whole.Count);
        Assert.True(whole.Recording.Intact);
        // About half the tags and half the time: the capture's pulses are those covered, not the 4e6 claimed.
        Assert.InRange(capture.Count, 0.4 * whole.Count, 0.6 * whole.Count);
        double coveredPulses = recording.CoveredSeconds * LinkSettings.Default.PulseRateHz;
        Assert.Equal((long)Math.Round(coveredPulses), capture.Pulses);
        Assert.InRange(capture.Pulses!.Value, 0.4 * whole.Pulses!.Value, 0.6 * whole.Pulses.Value);
        // The rate per pulse is the whole file's (within counting noise), not halved.
        double wholeRate = (double)whole.Count / whole.Pulses.Value, halfRate = (double)capture.Count / capture.Pulses.Value;
        Assert.InRange(halfRate / wholeRate, 0.97, 1.03);
        Assert.Equal(recording.ClaimedSeconds!.Value - recording.CoveredSeconds, recording.LostSeconds!.Value, 9);
        Assert.Contains("damage accepted", capture.Source);
        Assert.Contains("truncated", capture.Source);
    }

    [Fact]
    public void A_run_replay_of_a_damaged_recording_is_refused_before_anything_runs_unless_accepted()
    {
        string path = Record("link.qtt", 0.004);
        byte[] bytes = File.ReadAllBytes(path);
        // Flip one byte in the middle of the file: one chunk fails its CRC, the trailer is intact.
        bytes[bytes.Length / 2] ^= 0x55;
        string damaged = Path.Combine(_dir, "damaged.qtt");
        File.WriteAllBytes(damaged, bytes);
        string keys = Path.Combine(_dir, "keys");

        var e = Assert.Throws<DamagedRecordingException>(() => Recording.ReadRunOptions(damaged, keys, 1 << 20));
        Assert.Contains("corrupt chunk", e.Message);
        Assert.False(Directory.Exists(keys));

        var options = Recording.ReadRunOptions(damaged, keys, 1 << 20, acceptDamaged: true);
        var integrity = Assert.IsType<RecordingIntegrityReport>(options.ReplayIntegrity);
        Assert.False(integrity.Intact);
        Assert.False(integrity.Truncated);
        Assert.True(integrity.TagsLostExact);
        Assert.Equal(TimeTagFileWriterChunk, integrity.TagsLost);
        var hole = Assert.Single(integrity.Damage);
        Assert.Equal("corruptChunks", hole.Kind);
        Assert.True(hole.LostSeconds > 0);
        Assert.InRange(integrity.CoveredSeconds, 0.004 - hole.LostSeconds!.Value - 2e-5, 0.004 - hole.LostSeconds.Value + 2e-5);
    }

    private const long TimeTagFileWriterChunk = TimeTagFileWriter.DefaultTagsPerChunk;

    [Fact]
    public void Recordings_say_whether_the_light_was_blocked_and_a_dark_measurement_refuses_a_lit_or_silent_one()
    {
        string lit = Record("lit.qtt", 0.0005);
        string dark = Record("dark.qtt", 0.0005, lightBlocked: true);
        string silent = Path.Combine(_dir, "silent.qtt");
        using (var writer = TimeTagFileWriter.Create(silent, new TimeTagFileHeader(1,
                   [new(0, "sync", TimeTagChannelRole.Sync), new(1, "D0", TimeTagChannelRole.Detector)], DateTimeOffset.UtcNow)))
            writer.Write([new TimeTag(1_000, 0), new TimeTag(2_000, 1)]);

        using (var reader = TimeTagFileReader.Open(lit)) Assert.False(Recording.LightWasBlocked(reader.Header));
        using (var reader = TimeTagFileReader.Open(dark))
        {
            Assert.True(Recording.LightWasBlocked(reader.Header));
            Assert.Equal("emulated shutter", reader.Header.FindMetadata(Recording.LightBlockedByKey));
        }
        using (var reader = TimeTagFileReader.Open(silent)) Assert.Null(Recording.LightWasBlocked(reader.Header));

        var on = Assert.Throws<ArgumentException>(() => Recording.RequireLightBlocked(lit, lightOffConfirmed: true));
        Assert.Contains("light was on", on.Message);
        Recording.RequireLightBlocked(dark, lightOffConfirmed: false);
        var unknown = Assert.Throws<ArgumentException>(() => Recording.RequireLightBlocked(silent, lightOffConfirmed: false));
        Assert.Contains("--light-off-confirmed", unknown.Message);
        Recording.RequireLightBlocked(silent, lightOffConfirmed: true);
    }

    [Fact]
    public void A_detector_calibration_of_a_lit_recording_is_refused()
    {
        string lit = Record("lit.qtt", 0.0005);

        var e = Assert.Throws<ArgumentException>(() => DetectorCalibrationRun.Run(new DetectorCalibrationOptions { ReplayFile = lit }, TestContext.Current.CancellationToken));

        Assert.Contains("light was on", e.Message);
    }
}
