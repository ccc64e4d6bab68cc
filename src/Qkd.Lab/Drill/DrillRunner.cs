using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Qkd.Core;
using Qkd.Emulation;
using Qkd.Lab.Run;
using Qkd.Node.Link;

namespace Qkd.Lab.Drill;

/// <summary>
/// The breach drill: runs each attack of the catalogue on a fresh emulated link (the runner of `qkd run --emulator`,
/// through the device drivers), clean at first and attacked from a set link time on, and asks every detection source
/// whether and when it noticed. Then halves the intercept-resend fraction until an attack goes unnoticed.
/// </summary>
public sealed class DrillRunner(DrillOptions options, IReadOnlyList<IDrillDetector>? detectors = null, ILogger? logger = null)
{
    private readonly ILogger _logger = logger ?? NullLogger.Instance;

    /// <summary>The detection sources used when none are given: today the distiller's verdicts and the key flow.</summary>
    public static IReadOnlyList<IDrillDetector> DefaultDetectors { get; } = [new DistillerVerdictDetector(), new KeyStarvationDetector()];

    /// <summary>The detection sources consulted: those given, else the defaults and, unless turned off, the link monitor.</summary>
    public IReadOnlyList<IDrillDetector> Detectors { get; } = detectors ?? (options.LinkMonitor
        ? [.. DefaultDetectors, new LinkMonitorDetector(options.Monitor)]
        : DefaultDetectors);

    private IReadOnlyList<Qkd.Monitoring.BlockObservation>? _baseline;

    /// <summary>The clean baseline run's report (when the link monitor is consulted and it ran).</summary>
    public LinkReport? BaselineReport { get; private set; }

    /// <summary>The link's physics without an attack.</summary>
    public LinkProfile Profile => LinkProfile.Default.WithDistance(options.DistanceKm);

    /// <summary>The link's settings: the defaults with the drill's small blocks, and no short final block.</summary>
    public LinkSettings Settings => LinkSettings.Default with { BlockSizeBits = options.BlockSizeBits, MinimumFinalBlockBits = options.BlockSizeBits };

    /// <summary>Expected link time per key block on the honest link (sifted Z rate from the textbook gains), seconds.</summary>
    public double BlockSeconds
    {
        get
        {
            var settings = Settings;
            var model = new LinkModel(Profile, settings.Light, settings.SymbolDistribution());
            double gain = Intensities.All.Sum(k => settings.IntensityProbability(k) * model.Gain(k));
            double siftedZPerSecond = settings.PulseRateHz * gain * settings.AliceProbabilityZ * Profile.BobProbabilityZ;
            return options.BlockSizeBits / siftedZPerSecond;
        }
    }

    public double OnsetSeconds => Round(options.CleanBlocks * BlockSeconds);

    public double LinkSeconds => Round((options.CleanBlocks + options.AttackedBlocks) * BlockSeconds);

    /// <summary>Link time of the run of <paramref name="attack"/>: longer than <see cref="LinkSeconds"/> when the attack needs more blocks under it.</summary>
    public double LinkSecondsOf(DrillAttack attack) =>
        Round((options.CleanBlocks + Math.Max(options.AttackedBlocks, attack.MinimumAttackedBlocks ?? 0)) * BlockSeconds);

    public async Task<DrillReport> RunAsync(IProgress<DrillAttackResult>? progress = null, CancellationToken cancellationToken = default)
    {
        options.Validate();
        var started = DateTimeOffset.UtcNow;
        var wall = Stopwatch.StartNew();
        string keys = options.KeysDirectory ?? Path.Combine(Path.GetTempPath(), $"qkd-drill-{Guid.NewGuid():N}");
        var results = new List<DrillAttackResult>();
        var search = new List<FractionStep>();
        double? smallest = null;
        try
        {
            foreach (DrillAttack attack in options.Attacks ?? DrillCatalogue.All)
            {
                var result = await RunAttackAsync(attack, keys, cancellationToken).ConfigureAwait(false);
                results.Add(result);
                progress?.Report(result);
                if (attack.Spec.Kind == EavesdropperKind.InterceptResend && result.Caught)
                    smallest = Math.Min(smallest ?? 1, attack.Spec.Fraction);
            }
            if (options.Attacks is null && options.SearchInterceptFraction && smallest is not null)
            {
                DrillAttackResult? smallestCaught = null;
                for (double fraction = 0.5; fraction >= options.SmallestFraction * 0.999; fraction /= 2)
                {
                    var result = await RunAttackAsync(DrillCatalogue.InterceptResend(fraction), keys, cancellationToken).ConfigureAwait(false);
                    search.Add(new FractionStep(fraction, result.Caught, result.Check, result.SecretBitsFromAttackedBlocks));
                    _logger.LogInformation("Intercept-resend {Fraction}: {Verdict}", fraction, result.Verdict);
                    if (!result.Caught) break;
                    smallestCaught = result;
                    smallest = fraction;
                }
                if (smallestCaught is not null)
                {
                    results.Add(smallestCaught);
                    progress?.Report(smallestCaught);
                }
            }
        }
        finally
        {
            // The drill's keys are emulation keys of no use to anyone: leave nothing behind.
            if (options.KeysDirectory is null)
                try { Directory.Delete(keys, recursive: true); }
                catch (DirectoryNotFoundException) { /* no run got as far as writing keys */ }
        }

        var notCaught = results.Where(r => !r.Caught).Select(r => r.Attack).ToList();
        return new DrillReport
        {
            StartedAt = started,
            WallClockSeconds = wall.Elapsed.TotalSeconds,
            DistanceKm = options.DistanceKm,
            Seed = options.Seed,
            EmulatorSeed = options.Seed ?? EmulatedRunOptions.DefaultEmulatorSeed,
            Seeded = options.Seed is not null,
            Warning = options.Seed is null ? null : ChoiceSources.SeededWarning,
            BlockSizeBits = options.BlockSizeBits,
            OnsetSeconds = OnsetSeconds,
            LinkSecondsPerAttack = LinkSeconds,
            Detectors = Detectors.Select(d => d.Name).ToList(),
            Attacks = results,
            InterceptResendSearch = search,
            SmallestDetectedInterceptFraction = smallest,
            AllCaught = notCaught.Count == 0,
            NotCaught = notCaught,
        };
    }

    /// <summary>One attack on a fresh link: clean up to <see cref="OnsetSeconds"/>, attacked after.</summary>
    public async Task<DrillAttackResult> RunAttackAsync(DrillAttack attack, string keysDirectory, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(attack);
        double onset = OnsetSeconds;
        var runOptions = new EmulatedRunOptions
        {
            Profile = Profile with { Eavesdropper = attack.StartingAt(onset) },
            Settings = Settings,
            ProfileSource = "qkd drill",
            DurationSeconds = LinkSecondsOf(attack),
            Seed = options.Seed,
            KeysDirectory = keysDirectory,
        };
        _logger.LogInformation("Drill: {Attack} ({Spec}) over {Seconds} s of link time", attack.Name, runOptions.Profile.Eavesdropper, runOptions.DurationSeconds);
        var baseline = await BaselineAsync(keysDirectory, cancellationToken).ConfigureAwait(false);
        var runner = new EmulatedLinkRunner(runOptions, _logger);
        LinkReport report = await runner.RunAsync(null, cancellationToken).ConfigureAwait(false);
        var observation = new DrillObservation(report, onset, Settings.PulseRateHz)
        {
            MonitorBlocks = runner.Monitor?.Observations ?? [],
            BaselineBlocks = baseline,
        };
        return DrillEvaluation.Evaluate(attack, observation, Detectors);
    }

    /// <summary>
    /// The clean run the link monitor learns from, once per drill: <see cref="DrillOptions.BaselineBlocks"/> blocks' worth
    /// of honest link time (plus half a block, so the last one completes). Empty when no detector needs it.
    /// </summary>
    private async Task<IReadOnlyList<Qkd.Monitoring.BlockObservation>> BaselineAsync(string keysDirectory, CancellationToken cancellationToken)
    {
        if (_baseline is not null) return _baseline;
        if (!Detectors.OfType<LinkMonitorDetector>().Any()) return _baseline = [];
        var runOptions = new EmulatedRunOptions
        {
            Profile = Profile,
            Settings = Settings,
            ProfileSource = "qkd drill (clean baseline)",
            DurationSeconds = Round((options.BaselineBlocks + 0.5) * BlockSeconds),
            Seed = options.Seed is ulong seed ? seed + 1 : null,
            KeysDirectory = keysDirectory,
        };
        _logger.LogInformation("Drill: clean baseline run over {Seconds} s of link time ({Blocks} blocks) for the link monitor", runOptions.DurationSeconds, options.BaselineBlocks);
        var runner = new EmulatedLinkRunner(runOptions, _logger);
        BaselineReport = await runner.RunAsync(null, cancellationToken).ConfigureAwait(false);
        return _baseline = runner.Monitor?.Observations.ToList() ?? [];
    }

    private static double Round(double seconds) => Math.Ceiling(seconds * 1e4) / 1e4;
}
