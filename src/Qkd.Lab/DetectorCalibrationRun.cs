using Qkd.Emulation;
using Qkd.Emulation.TimeTagging;
using Qkd.Calibration;
using Qkd.Node.Link;

namespace Qkd.Lab;

/// <summary>What <c>qkd calibrate detector</c> measures and where the tags come from.</summary>
public sealed record DetectorCalibrationOptions
{
    /// <summary>The emulated link (dark counts, afterpulsing, dead time and efficiency are the truth to find).</summary>
    public LinkProfile Profile { get; init; } = LinkProfile.Default;

    /// <summary>What Alice's transmitter is set to for the captures (pulse rate, sync divider; the light capture replaces the intensities).</summary>
    public LinkSettings Settings { get; init; } = LinkSettings.Default;

    /// <summary>Tagger wiring (detector channels from FirstDetectorChannel; free-running dark counts).</summary>
    public EmulatedTimeTaggerOptions Tagger { get; init; } = new();

    public ulong Seed { get; init; } = 7;

    /// <summary>Pulse slots of each capture (light blocked, and with light when <see cref="MeanPhotonNumber"/> is set).</summary>
    public long Pulses { get; init; } = 200_000_000;

    /// <summary>A time-tag file with the light blocked, analysed instead of the emulator's dark capture.</summary>
    public string? ReplayFile { get; init; }

    /// <summary>Source mean photon number per pulse for the efficiency capture; null: no efficiency measurement.</summary>
    public double? MeanPhotonNumber { get; init; }

    /// <summary>Loss from the source to the detectors, dB; null: the profile's channel loss.</summary>
    public double? LossDb { get; init; }

    /// <summary>Histogram bin width, ps; null: the pulse period (a gated detector's intervals are whole periods).</summary>
    public long? BinWidthPs { get; init; }

    public long WindowPs { get; init; } = DetectorCalibration.DefaultWindowPs;

    /// <summary>Refuses options that cannot run, naming the option; changes nothing.</summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Profile);
        ArgumentNullException.ThrowIfNull(Settings);
        ArgumentNullException.ThrowIfNull(Tagger);
        if (ReplayFile is null && (Pulses < 1000 || Pulses > 10_000_000_000))
            throw new ArgumentOutOfRangeException(nameof(Pulses), Pulses, "The pulse count must lie in [1000, 1e10].");
        if (MeanPhotonNumber is double mu && !(mu > 0 && mu <= 100))
            throw new ArgumentOutOfRangeException(nameof(MeanPhotonNumber), mu, "The mean photon number must lie in (0, 100].");
        if (LossDb is double loss && !(loss >= 0 && loss <= 100))
            throw new ArgumentOutOfRangeException(nameof(LossDb), loss, "The loss must lie in [0, 100] dB.");
        if (BinWidthPs is long w && w < 1)
            throw new ArgumentOutOfRangeException(nameof(BinWidthPs), w, "The bin width must be >= 1 ps.");
        if (MeanPhotonNumber is not null && ReplayFile is not null)
            throw new ArgumentException("The efficiency needs a capture with light from the emulator; it cannot come from a light-blocked replay file.", nameof(MeanPhotonNumber));
        Profile.Validate();
        Settings.Validate();
        Tagger.Validate(Profile.DetectorCount, Settings.PulsePeriodPs);
    }
}

/// <summary>
/// <c>qkd calibrate detector</c>: a capture with the light blocked gives each detector's dark-count rate, dead time
/// and afterpulsing (<see cref="DetectorCalibration"/>); with a source mean photon number, a second capture with
/// light gives the detection efficiency (<see cref="DetectorEfficiencyEstimate"/>). On the emulator the light is
/// blocked as in the lab, by a shutter in the path (300 dB of extra loss; Alice still emits, the sync still runs),
/// and the light capture sends every pulse at mu with the given loss.
/// </summary>
public static class DetectorCalibrationRun
{
    /// <summary>Extra loss of the emulated shutter: no photon gets through in any practical capture.</summary>
    public const double ShutterLossDb = 300;

    public sealed record Result(
        IReadOnlyList<DetectorChannelAnalysis> Dark, double DarkDurationSeconds, long? DarkPulses, string DarkSource,
        IReadOnlyList<DetectorChannelAnalysis>? Light, DetectorEfficiencyEstimate? Efficiency, LinkProfile? Truth,
        EmulatedTimeTaggerOptions? TaggerTruth, double PulseRateHz);

    public static Result Run(DetectorCalibrationOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var profile = options.Profile;
        var settings = options.Settings;
        if (options.LossDb is double lossDb) profile = profile with { FibreLengthKm = 0, BobInternalLossDb = lossDb };

        var darkCapture = LabTagCapture.Capture(new LabCaptureOptions
        {
            Profile = profile with { BobInternalLossDb = profile.BobInternalLossDb + ShutterLossDb },
            Settings = settings,
            Tagger = options.Tagger,
            Seed = options.Seed,
            Pulses = options.Pulses,
            ReplayFile = options.ReplayFile,
        }, cancellationToken);
        var truth = darkCapture.Profile ?? (options.ReplayFile is null ? profile : null);
        var tagger = darkCapture.TaggerOptions ?? options.Tagger;
        double pulseRate = (darkCapture.Settings ?? settings).PulseRateHz;
        long binWidth = options.BinWidthPs ?? Math.Max(1, (long)Math.Round(1e12 / pulseRate));
        var channels = Enumerable.Range(0, (truth ?? profile).DetectorCount).Select(d => (ushort)(tagger.FirstDetectorChannel + d)).ToArray();

        var dark = new DetectorCalibration(channels, binWidth, options.WindowPs);
        dark.Add(darkCapture.Span);
        // Emulated (or a recording that says so): the pulses fix the duration; otherwise the span of the tags.
        double darkSeconds = darkCapture.Pulses is long p ? p / pulseRate : darkCapture.DurationPs / 1e12;
        if (!(darkSeconds > 0)) throw new InvalidOperationException($"The capture from {darkCapture.Source} holds fewer than two tags: nothing to analyse.");
        var darkResults = dark.Analyse(darkSeconds);

        IReadOnlyList<DetectorChannelAnalysis>? lightResults = null;
        DetectorEfficiencyEstimate? efficiency = null;
        if (options.MeanPhotonNumber is double mu)
        {
            // Every pulse at mu (the decoy level only has to stay below it to make a valid source).
            var lit = settings with
            {
                SignalMeanPhotonNumber = mu,
                DecoyMeanPhotonNumber = Math.Min(settings.DecoyMeanPhotonNumber, mu / 2),
                VacuumMeanPhotonNumber = 0,
                SignalProbability = 1,
                DecoyProbability = 0,
                VacuumProbability = 0,
            };
            var lightCapture = LabTagCapture.Capture(new LabCaptureOptions
            {
                Profile = profile, Settings = lit, Tagger = options.Tagger, Seed = options.Seed + 1, Pulses = options.Pulses,
            }, cancellationToken);
            var light = new DetectorCalibration(channels, binWidth, options.WindowPs);
            light.Add(lightCapture.Span);
            lightResults = light.Analyse(options.Pulses / pulseRate);
            efficiency = DetectorEfficiencyEstimate.Estimate(lightResults, darkResults, options.Pulses, pulseRate, mu, profile.ChannelTransmittance);
        }
        return new Result(darkResults, darkSeconds, darkCapture.Pulses, darkCapture.Source, lightResults, efficiency, truth,
            options.ReplayFile is null ? options.Tagger : darkCapture.TaggerOptions, pulseRate);
    }
}
