using Qkd.Node.Devices;
using Qkd.Node.Link;
using System.Globalization;
using Qkd.Acquisition.Replay;
using Qkd.Core.Random;
using Qkd.Core.Symbols;
using Qkd.Core.TimeTags;
using Qkd.Emulation;
using Qkd.Emulation.TimeTagging;

namespace Qkd.Lab.Run;

/// <summary>
/// Records an emulated link's time-tag stream to a file in our format, with what a replay needs to distil it in the
/// metadata: the link profile, the link settings, the run seed (from which Alice's symbols follow) and the length of
/// the run. A replay
/// (`qkd run --replay`) then goes through exactly the acquisition, clock-recovery and distillation path of a live run.
/// </summary>
public static class Recording
{
    public const string ProfileKey = "qkd.profile";
    /// <summary>The link settings (<see cref="LinkSettings"/> JSON). Recordings made before it carry the transmitter settings in the profile.</summary>
    public const string SettingsKey = "qkd.linkSettings";
    public const string SeedKey = "qkd.seed";
    public const string PulsesKey = "qkd.pulses";

    /// <summary>Writes the tag stream of the emulated run described by <paramref name="options"/>; returns the tags written.</summary>
    public static long Write(EmulatedRunOptions options, string path)
    {
        options.Validate();
        var profile = options.Profile;
        var settings = options.Settings;
        // A recording replays Alice's symbols from its seed: it can only be made of a seeded run.
        ulong seed = options.Seed ?? throw new ArgumentException("A recording needs a seed: Alice's symbols for its pulses are recomputed from it on replay.");
        long endPulse = options.Pulses;
        var symbols = EmulatedSetup.AliceSymbols(settings, seed);
        var link = EmulatedSetup.Link(profile, settings, symbols, seed);
        var taggerOptions = EmulatedSetup.TaggerOptionsFor(settings, endPulse);
        var tagger = EmulatedSetup.Tagger(link, taggerOptions, seed);

        var channels = new List<TimeTagChannelDescription> { new(taggerOptions.SyncChannel, "sync (Alice clock / " + taggerOptions.SyncDivider + ")", TimeTagChannelRole.Sync) };
        for (int d = 0; d < profile.DetectorCount; d++)
            channels.Add(new((ushort)(taggerOptions.FirstDetectorChannel + d), $"detector {d}", TimeTagChannelRole.Detector));
        var header = new TimeTagFileHeader(1, channels, DateTimeOffset.UtcNow,
        [
            new(ProfileKey, profile.ToJson()),
            new(SettingsKey, settings.ToJson()),
            new(SeedKey, seed.ToString(CultureInfo.InvariantCulture)),
            new(PulsesKey, endPulse.ToString(CultureInfo.InvariantCulture)),
        ]);
        using var writer = TimeTagFileWriter.Create(path, header);
        var buffer = new TimeTag[1 << 16];
        int n;
        while ((n = tagger.Read(buffer)) > 0)
            writer.Write(buffer.AsSpan(0, n));
        writer.Flush();
        return writer.TagsWritten;
    }

    /// <summary>
    /// The run options that replay <paramref name="path"/>: profile, link settings, seed and duration from its metadata
    /// (the block size is the caller's). A file without them (a PicoQuant PTU file, a recording of other hardware)
    /// cannot be distilled: Alice's symbols are unknown. Recordings made before the settings had a key of their own
    /// carry them in the profile, and are read as they are.
    /// </summary>
    public static EmulatedRunOptions ReadRunOptions(string path, string keysDirectory, long blockSizeBits)
    {
        using var reader = TimeTagFileReader.Open(path);
        var header = reader.Header;
        string? profileJson = header.FindMetadata(ProfileKey);
        string? seedText = header.FindMetadata(SeedKey);
        string? pulsesText = header.FindMetadata(PulsesKey);
        if (profileJson is null || seedText is null || pulsesText is null)
            throw new ArgumentException(
                $"{path}: the recording has no '{ProfileKey}', '{SeedKey}' and '{PulsesKey}' metadata, so Alice's symbols for its pulses are unknown and it cannot be distilled (record with `qkd record`).");
        string? settingsJson = header.FindMetadata(SettingsKey);
        var (profile, settings) = LinkProfileFile.Parse(profileJson, settingsJson is null ? null : LinkSettings.Parse(settingsJson));
        settings = settings with { BlockSizeBits = blockSizeBits };
        if (!ulong.TryParse(seedText, NumberStyles.None, CultureInfo.InvariantCulture, out ulong seed))
            throw new ArgumentException($"{path}: metadata '{SeedKey}' is '{seedText}', not a seed.");
        if (!long.TryParse(pulsesText, NumberStyles.None, CultureInfo.InvariantCulture, out long pulses) || pulses <= 0)
            throw new ArgumentException($"{path}: metadata '{PulsesKey}' is '{pulsesText}', not a pulse count.");
        return new EmulatedRunOptions
        {
            Profile = profile,
            Settings = settings,
            ProfileSource = $"{path} (recording metadata)",
            Seed = seed,
            DurationSeconds = pulses / settings.PulseRateHz,
            KeysDirectory = keysDirectory,
            ReplayFile = path,
        };
    }
}
