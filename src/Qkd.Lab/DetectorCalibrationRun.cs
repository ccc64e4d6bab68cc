using Qkd.Emulation;
using Qkd.Emulation.TimeTagging;
using Qkd.Calibration;
using Qkd.Node.Link;

namespace Qkd.Lab;

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
        if (options.ReplayFile is string replayFile) Qkd.Lab.Run.Recording.RequireLightBlocked(replayFile, options.LightOffConfirmed);

        var darkCapture = LabTagCapture.Capture(new LabCaptureOptions
        {
            Profile = profile with { BobInternalLossDb = profile.BobInternalLossDb + ShutterLossDb },
            Settings = settings,
            Tagger = options.Tagger,
            Seed = options.Seed,
            Pulses = options.Pulses,
            ReplayFile = options.ReplayFile,
            AcceptDamaged = options.AcceptDamaged,
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
