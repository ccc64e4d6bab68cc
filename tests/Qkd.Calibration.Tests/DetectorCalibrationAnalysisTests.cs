using Qkd.Core.TimeTags;

namespace Qkd.Calibration.Tests;

/// <summary>The analysis on synthetic click trains with a known dead time and afterpulsing.</summary>
public sealed class DetectorCalibrationAnalysisTests
{
    /// <summary>
    /// A continuous-time detector: primaries Poisson(rate) while live, dead time D, afterpulse with probability p at
    /// D + Exp(tau) unless a primary comes first; plus a few stray counts inside the dead time.
    /// </summary>
    private static TimeTag[] Train(int clicks, double ratePerPs, long deadPs, double p, double tauPs, int seed)
    {
        var random = new Random(seed);
        var tags = new List<TimeTag>(clicks);
        double t = 1e6;
        for (int i = 0; i < clicks; i++)
        {
            tags.Add(new TimeTag((long)t, 3));
            double primary = -Math.Log(1 - random.NextDouble()) / ratePerPs;
            double gap = deadPs + primary;
            if (random.NextDouble() < p)
            {
                double after = deadPs - Math.Log(1 - random.NextDouble()) * tauPs;
                gap = Math.Min(gap, after);
            }
            // One click in ten thousand is followed by a stray (not dead-time limited) count.
            if (i % 10_000 == 9_999) tags.Add(new TimeTag((long)(t + deadPs * random.NextDouble()), 3));
            t += gap;
        }
        tags.Sort((a, b) => a.TimePs.CompareTo(b.TimePs));
        return [.. tags];
    }

    [Fact]
    public void Dead_time_afterpulse_probability_and_decay_are_recovered_from_a_continuous_time_train()
    {
        var tags = Train(400_000, 1e-7, 30_000, 0.08, 20_000, 1);
        var calibration = new DetectorCalibration([3], binWidthPs: 500, windowPs: 10_000_000);
        // Batches, with an unrelated channel mixed in: it is ignored.
        foreach (var chunk in tags.Chunk(4096)) calibration.Add(chunk);
        calibration.Add([new TimeTag(tags[^1].TimePs + 1, 9)]);
        double seconds = (tags[^1].TimePs - tags[0].TimePs) / 1e12;
        var channel = Assert.Single(calibration.Analyse(seconds));

        Assert.Equal(tags.Length, channel.Clicks);
        Assert.InRange(channel.DeadTime.DeadTimePs, 30_000 * 0.98, 30_000 * 1.02);
        Assert.True(channel.DeadTime.FirstGapPs < 30_000, "the stray counts are the smallest gaps");
        Assert.InRange(channel.Afterpulses.Probability, 0.08 * 0.9, 0.08 * 1.1);
        Assert.InRange(channel.Afterpulses.DecayPs, 20_000 * 0.9, 20_000 * 1.1);
        Assert.InRange(channel.Afterpulses.PrimaryRatePerPs, 1e-7 * 0.9, 1e-7 * 1.1);
    }

    [Fact]
    public void No_afterpulsing_gives_a_probability_near_zero()
    {
        var tags = Train(200_000, 2e-7, 20_000, 0, 1, 2);
        var calibration = new DetectorCalibration([3], 500, 10_000_000);
        calibration.Add(tags);
        var channel = calibration.Analyse((tags[^1].TimePs - tags[0].TimePs) / 1e12)[0];
        Assert.InRange(channel.Afterpulses.Probability, 0, 3 * channel.Afterpulses.ProbabilityUncertainty + 0.002);
        Assert.InRange(channel.DeadTime.DeadTimePs, 20_000 * 0.98, 20_000 * 1.02);
    }

    [Fact]
    public void An_overflow_breaks_the_interval_chain()
    {
        var calibration = new DetectorCalibration([1, 2], 1000, 100_000);
        calibration.Add([new TimeTag(0, 1), new TimeTag(5_000, 1), new TimeTag(6_000, 0, TimeTagKind.OverflowBegin), new TimeTag(50_000, 1), new TimeTag(53_000, 1)]);
        var h = calibration.Channels[0];
        Assert.Equal(4, h.Clicks);
        Assert.Equal(2, h.Gaps);
        Assert.Equal(1, h.Counts[5]);
        Assert.Equal(1, h.Counts[3]);
        Assert.Equal(1, calibration.Overflows);
    }

    [Fact]
    public void Bad_arguments_are_refused()
    {
        Assert.Throws<ArgumentException>(() => new DetectorCalibration([], 1000));
        Assert.Throws<ArgumentException>(() => new DetectorCalibration([1, 1], 1000));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DetectorCalibration([1], 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DetectorCalibration([1], 1000).Analyse(0));
    }
}
