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
/// Records a link's time-tag stream to a file in our format, with what a replay needs to distil it in the metadata:
/// the link profile, the link settings, the run seed (from which Alice's symbols follow), the length of the run,
/// whether the light reached the detectors, and where the tags came from. The tags come from the emulated tagger
/// (<see cref="Write"/>) or from real devices driven through their drivers (<see cref="WriteFromDevices"/>). A replay
/// (`qkd run --replay`) then goes through exactly the acquisition, clock-recovery and distillation path of a live run;
/// it first checks the file whole (<see cref="CheckIntegrity"/>) and refuses a truncated or damaged one unless the
/// damage is accepted.
/// </summary>
public static class Recording
{
    public const string ProfileKey = "qkd.profile";
    /// <summary>The link settings (<see cref="LinkSettings"/> JSON). Recordings made before it carry the transmitter settings in the profile.</summary>
    public const string SettingsKey = "qkd.linkSettings";
    public const string SeedKey = "qkd.seed";
    public const string PulsesKey = "qkd.pulses";

    /// <summary>
    /// Whether Alice's light reached Bob's detectors: "<see cref="LightOn"/>" or "<see cref="LightBlocked"/>" (a
    /// shutter closed, or the path blocked as the operator stated). A dark-count calibration needs "blocked".
    /// </summary>
    public const string LightKey = "qkd.light";
    public const string LightOn = "on";
    public const string LightBlocked = "blocked";

    /// <summary>Who says the light was blocked: "emulated shutter" or "operator" (a bench has no shutter the host drives).</summary>
    public const string LightBlockedByKey = "qkd.lightBlockedBy";

    /// <summary>Where the tags came from: "emulator" or the device bench's description (its ports or serial numbers).</summary>
    public const string SourceKey = "qkd.source";

    /// <summary>Bob's receiver wiring, delays and gate (<see cref="ReceiverSettings"/> JSON) when the recording is of a bench that states them.</summary>
    public const string ReceiverKey = "qkd.receiver";

    /// <summary>Writes the tag stream of the emulated run described by <paramref name="options"/>; returns the tags written.</summary>
    /// <param name="lightBlocked">The profile has the emulated shutter closed in front of Bob's detectors (recorded as <see cref="LightKey"/>).</param>
    public static long Write(EmulatedRunOptions options, string path, bool lightBlocked = false)
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
            new(LightKey, lightBlocked ? LightBlocked : LightOn),
            .. lightBlocked ? [new KeyValuePair<string, string>(LightBlockedByKey, "emulated shutter")] : Array.Empty<KeyValuePair<string, string>>(),
            new(SourceKey, "emulator"),
        ]);
        return WriteStream(tagger, header, path, CancellationToken.None);
    }

    /// <summary>
    /// Records real devices (a bench: hardware, or `qkd emulate`'s devices on serial ports), driven through their
    /// drivers exactly as a link run drives them: the rig is connected and set to <paramref name="settings"/>, Alice's
    /// seeded symbols for <paramref name="pulses"/> pulses stream to the modulator, and every tag the tagger reports
    /// for the emission goes to the file. Nothing here is emulated in this process. The metadata says what a replay
    /// needs (settings, seed, pulses), where the tags came from (the bench), Bob's receiver wiring when known, and
    /// whether the light was blocked (only as the operator states it: a bench has no shutter the host closes).
    /// </summary>
    /// <param name="rig">The bench's devices, not yet connected; owned by the caller.</param>
    /// <param name="profile">What the devices are set to (detector efficiency, dead time) and the fibre length replay assumes without <paramref name="receiver"/>.</param>
    /// <param name="receiver">The bench's receiver wiring, delays and gate (a link bench's receiver.json), or null for the default wiring.</param>
    /// <returns>The tags written.</returns>
    public static long WriteFromDevices(LinkRig rig, LinkProfile profile, LinkSettings settings, ReceiverSettings? receiver, ulong seed, long pulses,
        string path, bool lightBlocked, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rig);
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pulses);
        profile.Validate();
        settings.Validate();
        if (receiver is not null)
        {
            if (receiver.Problems(settings).FirstOrDefault() is { } problem) throw new ArgumentException($"receiver settings: {problem}");
            profile = profile with
            {
                DetectorEfficiency = receiver.DetectorEfficiency ?? profile.DetectorEfficiency,
                DeadTimePs = receiver.DetectorDeadTimePs ?? profile.DeadTimePs,
            };
        }
        var wiring = EmulatedSetup.TaggerOptionsFor(settings, pulses, profile.ReceiverLayout);
        int syncChannel = receiver?.SyncChannel ?? wiring.SyncChannel;
        var channels = new List<TimeTagChannelDescription>
        {
            new((ushort)syncChannel, $"sync (Alice clock / {settings.PulsesPerSync})", TimeTagChannelRole.Sync, receiver?.SyncDelayPs),
        };
        int[] detectors = receiver?.DetectorChannels
                          ?? Enumerable.Range(0, profile.DetectorCount).Select(d => wiring.FirstDetectorChannel + d).ToArray();
        for (int d = 0; d < detectors.Length; d++)
            channels.Add(new((ushort)detectors[d], $"detector {d}", TimeTagChannelRole.Detector, receiver?.DetectorDelaysPs?[d]));
        var symbols = EmulatedSetup.AliceSymbols(settings, seed);
        rig.Connect();
        rig.Configure(profile, settings, syncChannel);
        List<KeyValuePair<string, string>> metadata =
        [
            new(ProfileKey, profile.ToJson()),
            new(SettingsKey, settings.ToJson()),
            new(SeedKey, seed.ToString(CultureInfo.InvariantCulture)),
            new(PulsesKey, pulses.ToString(CultureInfo.InvariantCulture)),
            new(LightKey, lightBlocked ? LightBlocked : LightOn),
            new(SourceKey, rig.Description),
        ];
        if (lightBlocked) metadata.Add(new(LightBlockedByKey, "operator"));
        if (receiver is not null) metadata.Add(new(ReceiverKey, receiver.ToJson()));
        var header = new TimeTagFileHeader(1, channels, DateTimeOffset.UtcNow, metadata);
        var emission = rig.StartEmission(symbols, pulses);
        long tags;
        try
        {
            tags = WriteStream(emission, header, path, cancellationToken);
        }
        catch
        {
            try { rig.Tagger.StopStream(); } catch (Exception) { /* the original failure is the one to report */ }
            throw;
        }
        emission.EmissionStopped.GetAwaiter().GetResult();
        return tags;
    }

    /// <summary>
    /// Writes <paramref name="source"/> to the end. A failure or a cancellation leaves the tags received so far in the
    /// file without a trailer, so it reads as what it is: a recording cut off.
    /// </summary>
    private static long WriteStream(ITimeTagSource source, TimeTagFileHeader header, string path, CancellationToken cancellationToken)
    {
        var writer = TimeTagFileWriter.Create(path, header);
        try
        {
            var buffer = new TimeTag[1 << 16];
            int n;
            while ((n = source.Read(buffer, cancellationToken)) > 0)
                writer.Write(buffer.AsSpan(0, n));
        }
        catch
        {
            writer.Abandon();
            throw;
        }
        long written = writer.TagsWritten;
        writer.Dispose();
        return written;
    }

    /// <summary>
    /// The run options that replay <paramref name="path"/>: profile, link settings, seed and duration from its metadata
    /// (the block size is the caller's). A file without them (a PicoQuant PTU file, a recording of other hardware)
    /// cannot be distilled: Alice's symbols are unknown. Recordings made before the settings had a key of their own
    /// carry them in the profile, and are read as they are.
    /// </summary>
    /// <param name="acceptDamaged">Replay a truncated or damaged file over the time it covers instead of refusing it.</param>
    /// <exception cref="DamagedRecordingException">The file is truncated or damaged and <paramref name="acceptDamaged"/> is false.</exception>
    public static EmulatedRunOptions ReadRunOptions(string path, string keysDirectory, long blockSizeBits, bool acceptDamaged = false)
    {
        TimeTagFileHeader header;
        using (var reader = TimeTagFileReader.Open(path))
            header = reader.Header;
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
        ReceiverSettings? receiver = null;
        if (header.FindMetadata(ReceiverKey) is string receiverJson)
        {
            try { receiver = ReceiverSettings.Parse(receiverJson); }
            catch (InvalidDataException e) { throw new ArgumentException($"{path}: metadata '{ReceiverKey}': {e.Message}", e); }
        }
        // Checked before anything runs: a damaged file refused changes nothing (no key files, no report).
        var integrity = CheckIntegrity(path, pulses / settings.PulseRateHz, acceptDamaged);
        return new EmulatedRunOptions
        {
            Profile = profile,
            Settings = settings,
            ProfileSource = $"{path} (recording metadata)",
            Seed = seed,
            DurationSeconds = pulses / settings.PulseRateHz,
            KeysDirectory = keysDirectory,
            ReplayFile = path,
            ReplayIntegrity = integrity,
            Receiver = receiver,
        };
    }

    /// <summary>
    /// Reads every chunk of <paramref name="path"/> and reports its completeness against the length the metadata
    /// claims; throws <see cref="DamagedRecordingException"/> for a damaged file unless <paramref name="acceptDamaged"/>.
    /// </summary>
    public static RecordingIntegrityReport CheckIntegrity(string path, double? claimedSeconds, bool acceptDamaged)
    {
        var report = RecordingIntegrityReport.From(path, TimeTagFileReader.Check(path), claimedSeconds, acceptDamaged);
        report.ThrowIfRefused();
        return report;
    }

    /// <summary>
    /// Refuses, for a dark-count measurement, a recording whose metadata says the light reached the detectors, and
    /// one that says nothing about it (a PicoQuant file, another tool's recording) unless the user confirms the light
    /// was blocked: counts with light are not dark counts (1.2 MHz of "dark" counts from a lit recording).
    /// </summary>
    /// <exception cref="ArgumentException">The recording was lit, or says nothing and nobody confirmed it was dark.</exception>
    public static void RequireLightBlocked(string path, bool lightOffConfirmed)
    {
        var source = TimeTagFile.Open(path);
        try
        {
            bool? blocked = source is TimeTagFileReader reader ? LightWasBlocked(reader.Header) : null;
            if (blocked == false)
                throw new ArgumentException(
                    $"{path}: the recording's metadata says the light was on ({LightKey} = {LightOn}): its counts are not dark counts. " +
                    "Record with the light blocked (qkd record --shutter on the emulator, --light-blocked on a bench whose light you blocked).");
            if (blocked is null && !lightOffConfirmed)
                throw new ArgumentException(
                    $"{path}: the recording says nothing about the light at the detectors (no '{LightKey}' metadata), so its counts may not be dark counts; " +
                    "if it was taken with the light blocked, say so with --light-off-confirmed.");
        }
        finally
        {
            (source as IDisposable)?.Dispose();
        }
    }

    /// <summary>
    /// What a recording says about the light at Bob's detectors: its <see cref="LightKey"/>, or for recordings made
    /// before that key, the emulated shutter's loss in the recorded profile (`qkd record --shutter`); null when it
    /// says nothing (a PicoQuant file, another tool's recording).
    /// </summary>
    public static bool? LightWasBlocked(TimeTagFileHeader header)
    {
        ArgumentNullException.ThrowIfNull(header);
        switch (header.FindMetadata(LightKey))
        {
            case LightBlocked: return true;
            case LightOn: return false;
        }
        if (header.FindMetadata(ProfileKey) is string json)
        {
            try
            {
                var (profile, _) = LinkProfileFile.Parse(json, null);
                return profile.BobInternalLossDb >= DetectorCalibrationRun.ShutterLossDb;
            }
            catch (Exception e) when (e is LinkProfileException or ArgumentException or FormatException or System.Text.Json.JsonException)
            {
                return null;
            }
        }
        return null;
    }
}
