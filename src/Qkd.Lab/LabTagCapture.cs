using Qkd.Acquisition.Loop;
using Qkd.Hardware.Peripherals;
using Qkd.ClassicalChannel;
using Qkd.Hardware.RandomNumberGenerator;
using Qkd.Lab.Run;
using System.Globalization;
using Qkd.Acquisition.Replay;
using Qkd.Core.TimeTags;
using Qkd.Emulation;
using Qkd.Node.Devices;
using Qkd.Node.Link;

namespace Qkd.Lab;

/// <summary>
/// Captures the tags of a lab measurement. Emulated or on a device bench: a <see cref="LinkRig"/> (emulated firmware, or
/// the bench's devices), connected and configured through the drivers, streaming while the modulator emits
/// <see cref="LabCaptureOptions.Pulses"/> pulses (the same path as <see cref="EmulatedLinkRunner"/>); the tags are read
/// until the emission's light has ended (<see cref="EmissionTagStream"/>). Replay: every tag of the file.
/// </summary>
public static class LabTagCapture
{
    private const int Batch = 1 << 15;

    public static LabCapture Capture(LabCaptureOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return options.ReplayFile is string file ? Replay(file, options.AcceptDamaged, cancellationToken) : Emulate(options, cancellationToken);
    }

    private static LabCapture Emulate(LabCaptureOptions options, CancellationToken cancellationToken)
    {
        var profile = options.Profile;
        var settings = options.Settings;
        var tagger = options.Tagger with { EndPulse = options.Pulses, SyncDivider = settings.PulsesPerSync };
        var symbols = EmulatedSetup.AliceSymbols(settings, options.Seed);
        using var rig = options.Bench is { } bench
            ? bench.CreateRig()
            : LinkRig.CreateEmulated(profile, tagger with { EndPulse = long.MaxValue }, options.Seed);
        rig.Connect();
        rig.Configure(profile, settings, tagger.SyncChannel);
        var emission = rig.StartEmission(symbols, options.Pulses);
        TimeTag[] tags;
        int count;
        try
        {
            (tags, count) = ReadAll(emission, EstimateTags(profile, settings, options.Pulses), cancellationToken);
        }
        catch
        {
            try { rig.Tagger.StopStream(); } catch (Exception) { /* the original failure is the one to report */ }
            throw;
        }
        emission.EmissionStopped.GetAwaiter().GetResult();
        // On a bench the profile and wiring are the settings sent and the channel layout, not a known truth: the
        // physics (cable delays, efficiencies) is the bench's own.
        return options.Bench is null
            ? new LabCapture(tags, count, $"emulator ({rig.Description}, seed {options.Seed}, {options.Pulses} pulses)",
                profile, tagger, options.Seed, options.Pulses, symbols) { Settings = settings }
            : new LabCapture(tags, count, $"{rig.Description}, {options.Pulses} pulses", profile, tagger, options.Seed, options.Pulses, symbols)
            {
                TruthKnown = false,
                Settings = settings,
            };
    }

    /// <summary>
    /// Every tag of the file. A recording of ours is checked whole as it is read: a truncated or damaged one is
    /// refused (<see cref="DamagedRecordingException"/>) unless <paramref name="acceptDamaged"/>, and an accepted one
    /// is measured over the time it covers, its damage named in the capture's source.
    /// </summary>
    private static LabCapture Replay(string file, bool acceptDamaged, CancellationToken cancellationToken)
    {
        var source = TimeTagFile.Open(file);
        try
        {
            Emulation.LinkProfile? profile = null;
            LinkSettings? settings = null;
            ulong? seed = null;
            long? pulses = null;
            if (source is TimeTagFileReader reader)
            {
                var header = reader.Header;
                if (header.FindMetadata(Recording.ProfileKey) is string json)
                {
                    string? settingsJson = header.FindMetadata(Recording.SettingsKey);
                    (profile, settings) = LinkProfileFile.Parse(json, settingsJson is null ? null : LinkSettings.Parse(settingsJson));
                }
                if (ulong.TryParse(header.FindMetadata(Recording.SeedKey), NumberStyles.None, CultureInfo.InvariantCulture, out ulong s)) seed = s;
                if (long.TryParse(header.FindMetadata(Recording.PulsesKey), NumberStyles.None, CultureInfo.InvariantCulture, out long p)) pulses = p;
            }
            var (tags, count) = ReadAll(source, 1 << 20, cancellationToken);
            // Recordings are made with the run's tagger wiring (EmulatedSetup.TaggerOptionsFor).
            var tagger = settings is not null && pulses is long end ? EmulatedSetup.TaggerOptionsFor(settings, end) : null;
            var symbols = settings is not null && seed is ulong sd ? EmulatedSetup.AliceSymbols(settings, sd) : null;
            // A PTU file states its laser's rate (the sync input, before any divider) or at least its T3 sync period.
            var ptu = source as PtuReader;
            double? period = ptu?.Header.SyncRateHz is long rate ? 1e12 / rate : ptu?.Header.IsT3 == true ? ptu.GlobalResolution.ToDouble() : null;
            RecordingIntegrityReport? integrity = null;
            long interiorLostPs = 0;
            string sourceName = $"replay {file}";
            if (source is TimeTagFileReader checkedReader)
            {
                var found = checkedReader.Integrity;
                integrity = RecordingIntegrityReport.From(file, found, settings is not null && pulses is long claimed ? claimed / settings.PulseRateHz : null, acceptDamaged);
                integrity.ThrowIfRefused();
                if (!integrity.Intact)
                {
                    interiorLostPs = found.InteriorLostPs;
                    if (settings is not null) pulses = Math.Min(pulses ?? long.MaxValue, (long)Math.Round(integrity.CoveredSeconds * settings.PulseRateHz));
                    sourceName += $" ({integrity.Summary()}; {RecordingIntegrityReport.AcceptedNote})";
                }
            }
            return new LabCapture(tags, count, sourceName, profile, tagger, seed, pulses, symbols)
            {
                Settings = settings,
                SourcePulsePeriodPs = period,
                TagsNotPlaced = ptu?.TagsNotPlaced ?? 0,
                Recording = integrity,
                InteriorLostPs = interiorLostPs,
            };
        }
        finally
        {
            (source as IDisposable)?.Dispose();
        }
    }

    /// <summary>Reads until the source ends; the array doubles when full (never a per-tag allocation).</summary>
    internal static (TimeTag[] Tags, int Count) ReadAll(ITimeTagSource source, long expected, CancellationToken cancellationToken)
    {
        var tags = new TimeTag[(int)Math.Clamp(expected, Batch, 1L << 26)];
        int count = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (tags.Length - count < Batch)
            {
                if (tags.Length >= Array.MaxLength / 2)
                    throw new InvalidOperationException($"More than {count} tags from {source.Name}: capture fewer pulses.");
                Array.Resize(ref tags, tags.Length * 2);
            }
            int n = source.Read(tags.AsSpan(count, Batch), cancellationToken);
            if (n == 0) return (tags, count);
            count += n;
        }
    }

    internal static long EstimateTags(LinkProfile profile, LinkSettings settings, long pulses)
    {
        double perPulse = settings.SignalMeanPhotonNumber * profile.TotalTransmittance + profile.DarkCountProbabilityPerPulse * profile.DetectorCount;
        return (long)(pulses * (perPulse * 1.2 + 1.0 / settings.PulsesPerSync)) + Batch;
    }
}
