using System.Text.Json;
using Qkd.Emulation.TimeTagging;
using Qkd.Hardware.TimeTagger;

namespace Qkd.Lab;

/// <summary>
/// Calibrated input delays, as written by <c>qkd calibrate delays --write-config</c>: each detector channel's delay
/// relative to the sync channel, ps. Fed back as <see cref="EmulatedTimeTaggerOptions.DetectorDelaysPs"/> / the clock
/// recovery's detector delays (what the receiver should expect), or applied to a tagger as compensating input delays
/// (minus each delay) so every detector lands on the sync-derived pulse grid.
/// </summary>
public sealed record DelayConfiguration(ushort SyncChannel, ushort[] DetectorChannels, long[] DetectorDelaysPs)
{
    /// <summary>
    /// The light path (fibre) the delays are relative to, ps of Alice's time: a detector's light arrives this plus its
    /// delay after its pulse's sync. Null in files written before it was recorded. Its JSON name is the node's
    /// receiver settings' (<c>pathDelayPs</c>), as are the others': the file reads as a node's "receiver" section.
    /// </summary>
    public double? PathDelayPs { get; init; }

    /// <summary>Input delays that cancel the measured ones (channel order of <see cref="DetectorChannels"/>), ps.</summary>
    /// <remarks>Derived, so not written: the file must read as a node's receiver settings, which know no such field.</remarks>
    [System.Text.Json.Serialization.JsonIgnore]
    public long[] CompensatingInputDelaysPs => DetectorDelaysPs.Select(d => -d).ToArray();

    /// <summary>The tagger wiring with these delays (detector d is channel FirstDetectorChannel + d).</summary>
    public EmulatedTimeTaggerOptions ApplyTo(EmulatedTimeTaggerOptions options)
    {
        var delays = new long[DetectorDelaysPs.Length];
        for (int i = 0; i < DetectorChannels.Length; i++)
        {
            int d = DetectorChannels[i] - options.FirstDetectorChannel;
            if (d < 0 || d >= delays.Length) throw new ArgumentException($"Channel {DetectorChannels[i]} is not a detector channel of this tagger wiring.", nameof(options));
            delays[d] = DetectorDelaysPs[i];
        }
        return options with { DetectorDelaysPs = delays, SyncChannel = SyncChannel };
    }

    /// <summary>Sets each detector input's delay to cancel its measured delay (the tagger's InputDelayPs parameter).</summary>
    public void ApplyTo(ITimeTagger tagger)
    {
        ArgumentNullException.ThrowIfNull(tagger);
        long[] compensating = CompensatingInputDelaysPs;
        for (int i = 0; i < DetectorChannels.Length; i++) tagger.SetInputDelayPs(DetectorChannels[i], compensating[i]);
    }

    public void Save(string path) => LabReport.Write(this, path);

    /// <exception cref="ArgumentException">The file is not a delay configuration; the message names the problem.</exception>
    public static DelayConfiguration Load(string path)
    {
        try
        {
            var config = JsonSerializer.Deserialize(File.ReadAllText(path), LabJson.Default.DelayConfiguration)
                ?? throw new ArgumentException($"{path}: the document is null.");
            if (config.DetectorChannels is null || config.DetectorDelaysPs is null || config.DetectorChannels.Length != config.DetectorDelaysPs.Length)
                throw new ArgumentException($"{path}: detectorChannels and detectorDelaysPs must be present and of equal length.");
            return config;
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"{path}: not a delay configuration: {e.Message}", e);
        }
    }
}
