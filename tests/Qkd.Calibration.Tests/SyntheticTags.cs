using Qkd.Core;
using Qkd.Core.Symbols;
using Qkd.Core.TimeTags;

namespace Qkd.Calibration.Tests;

/// <summary>Tag trains with a known truth, built in the test: no emulator, no files.</summary>
internal static class SyntheticTags
{
    public const ushort SyncChannel = 0;

    /// <summary>Alice's pattern for the delay trains: 10 % of the pulses vacuum.</summary>
    public static SeededSymbolSource AlicePattern(ulong seed) => new(seed, new SymbolDistribution(0.5, [0.7, 0.2, 0.1]));

    /// <summary>
    /// A delay-calibration capture. Alice sends <paramref name="pulses"/> pulses a period T apart and a sync tag every
    /// <paramref name="syncDivider"/> pulses (the first at pulse 0); a non-vacuum pulse makes detector
    /// <paramref name="detectorChannel"/> click with probability <paramref name="clickProbability"/>, after the fibre
    /// and the detector's cable delay relative to the sync's, with Gaussian jitter; dark counts fall anywhere. The
    /// receiver's clock runs fast by <paramref name="clockDriftPpm"/>: it stretches every time, the period and the fibre
    /// included.
    /// </summary>
    public static TimeTag[] DelayTrain(Random random, Func<long, bool> isVacuumPulse, long pulses, int syncDivider, double periodPs,
        double pathDelayPs, double delayPs, double jitterPs, double clockDriftPpm, ushort detectorChannel = 1,
        double clickProbability = 0.05, double darkCountsPerPulse = 1e-3)
    {
        double scale = 1 + clockDriftPpm * 1e-6;
        const double syncCablePs = 50_000; // both inputs' cables; only their difference, the delay, is measurable
        var tags = new List<TimeTag>();
        for (long i = 0; i < pulses; i++)
        {
            double emitted = i * periodPs;
            if (i % syncDivider == 0) tags.Add(new TimeTag((long)Math.Round((emitted + syncCablePs) * scale), SyncChannel));
            if (!isVacuumPulse(i) && random.NextDouble() < clickProbability)
            {
                double arrival = emitted + pathDelayPs + syncCablePs + delayPs + jitterPs * Normal(random);
                tags.Add(new TimeTag((long)Math.Round(arrival * scale), detectorChannel));
            }
            if (random.NextDouble() < darkCountsPerPulse)
                tags.Add(new TimeTag((long)Math.Round((emitted + pathDelayPs + syncCablePs + random.NextDouble() * periodPs) * scale), detectorChannel));
        }
        tags.Sort((a, b) => a.TimePs.CompareTo(b.TimePs));
        return [.. tags];
    }

    /// <summary>A Poisson process of <paramref name="ratePerPs"/> on <paramref name="channel"/> over [0, <paramref name="durationPs"/>).</summary>
    public static List<TimeTag> Poisson(Random random, ushort channel, double ratePerPs, double durationPs)
    {
        var tags = new List<TimeTag>();
        for (double t = Exponential(random, ratePerPs); t < durationPs; t += Exponential(random, ratePerPs))
            tags.Add(new TimeTag((long)t, channel));
        return tags;
    }

    /// <summary>Tags of several channels merged into one time-ordered train (ties keep channel order: a stable sort).</summary>
    public static TimeTag[] Merge(params List<TimeTag>[] channels) => [.. channels.SelectMany(c => c).OrderBy(t => t.TimePs)];

    public static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    private static double Exponential(Random random, double rate) => -Math.Log(1 - random.NextDouble()) / rate;

    /// <summary>The distance from <paramref name="a"/> to <paramref name="b"/> modulo <paramref name="period"/>, in [-period/2, period/2).</summary>
    public static double ModularDistance(double a, double b, double period)
    {
        double d = (a - b) % period;
        if (d >= period / 2) d -= period;
        if (d < -period / 2) d += period;
        return d;
    }
}
