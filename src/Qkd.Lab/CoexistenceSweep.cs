using Qkd.Emulation;
using Qkd.Lab.Run;
using Qkd.Node.Link;

namespace Qkd.Lab;

/// <summary>
/// `qkd coexistence`: the largest launch power of a classical channel in the same fibre that still leaves secret key,
/// per distance. Each point is a full seeded emulated run (<see cref="EmulatedLinkRunner"/>: devices, acquisition,
/// distillation, finite-key length) with the classical channel in the profile, so the answer includes everything the
/// Raman background does to the gains, the QBER and the decoy-state bounds. The launch power is searched by bisection
/// on the grid (key is assumed to fall monotonically with launch power), the two ends of the range first.
/// </summary>
public sealed class CoexistenceSweep(LinkProfile baseProfile, LinkSettings settings, CoexistingChannel channel, ulong seed, string keysDirectory)
{
    /// <summary>One emulated run: the launch power and what the link gave.</summary>
    public sealed record Point(double DistanceKm, double LaunchPowerDbm, double RamanPhotonsPerGate, double DurationSeconds,
        long SecretBits, double? QberZ, double SecretKeyRateBitsPerSecond, bool Aborted, string? Reason);

    /// <summary>A distance's answer: the largest power on the grid with key (null: none), and every run made.</summary>
    public sealed record Result(double DistanceKm, double? MaxLaunchPowerDbm, double LowestDbm, double HighestDbm, IReadOnlyList<Point> Runs);

    /// <summary>
    /// Link time per run: enough for about 1.5 blocks of sifted Z bits on the dark fibre (classical light only adds
    /// clicks), from the analytic click rate (<see cref="LinkModel"/>), at least 0.2 s.
    /// </summary>
    public double DurationFor(LinkProfile profile)
    {
        double clicks = new LinkModel(profile with { ClassicalChannels = null }, settings.Light, settings.SymbolDistribution()).ClickRatePerSecond;
        double bobZ = profile.BobProbabilityZ;
        double siftedZPerSecond = clicks * settings.AliceProbabilityZ * bobZ;
        return Math.Max(0.2, Math.Ceiling(15.0 * settings.BlockSizeBits / siftedZPerSecond) / 10);
    }

    public async Task<Result> RunAsync(double distanceKm, double lowestDbm, double highestDbm, double stepDb,
        Action<Point>? progress = null, CancellationToken cancellationToken = default)
    {
        var profile = baseProfile.WithDistance(distanceKm);
        double duration = DurationFor(profile);
        var runs = new List<Point>();
        int steps = (int)Math.Round((highestDbm - lowestDbm) / stepDb);
        async Task<bool> KeyAt(int step)
        {
            double dbm = lowestDbm + step * stepDb;
            var withTraffic = profile with { ClassicalChannels = [channel with { LaunchPowerDbm = dbm }] };
            var options = new EmulatedRunOptions
            {
                Profile = withTraffic,
                Settings = settings,
                ProfileSource = "coexistence sweep",
                DurationSeconds = duration,
                Seed = seed,
                KeysDirectory = keysDirectory,
            };
            var report = await new EmulatedLinkRunner(options).RunAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            var point = new Point(distanceKm, dbm, RamanScattering.DetectedPhotonsPerGate(withTraffic, settings.Light.PulsePeriodPs), duration,
                report.SecretBits, report.QberZ, report.SecretKeyRateBitsPerSecond, report.Aborted, report.Reason);
            runs.Add(point);
            progress?.Invoke(point);
            return report.SecretBits > 0 && report.IdenticalKeys;
        }

        double? best;
        if (await KeyAt(steps).ConfigureAwait(false)) best = highestDbm;
        else if (!await KeyAt(0).ConfigureAwait(false)) best = null;
        else
        {
            int good = 0, bad = steps;
            while (bad - good > 1)
            {
                int middle = (good + bad) / 2;
                if (await KeyAt(middle).ConfigureAwait(false)) good = middle;
                else bad = middle;
            }
            best = lowestDbm + good * stepDb;
        }
        return new Result(distanceKm, best, lowestDbm, highestDbm, runs.OrderBy(p => p.LaunchPowerDbm).ToList());
    }
}
