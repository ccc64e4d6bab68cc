using CsCheck;
using Qkd.Monitoring;

namespace Qkd.Monitoring.Tests;

/// <summary>The CUSUM's guarantees (README, "Change detection"), as properties.</summary>
public sealed class CusumPropertyTests
{
    /// <summary>A series that never strays more than k sigmas from the baseline never signals, whatever h: each step adds at most z - k &lt;= 0.</summary>
    [Fact]
    public void A_series_within_k_sigmas_never_signals()
    {
        Gen.Select(Gen.Double[0.1, 3], Gen.Double[0.5, 30], Gen.Double[-1, 1].Array[1, 2000]).Sample((k, h, unit) =>
        {
            var cusum = new Cusum(k, h);
            foreach (double u in unit)
            {
                cusum.Add(u * k);
                if (cusum.UpperSignals || cusum.LowerSignals) return false;
            }
            return cusum.Upper == 0 && cusum.Lower == 0;
        });
    }

    /// <summary>
    /// A step of d sigmas (d &gt; k + e) under noise of at most e sigmas signals on its side within ceil(h / (d - k - e)) + 1
    /// samples, from any state the calm series before it left.
    /// </summary>
    [Fact]
    public void A_step_above_k_signals_within_h_over_d_minus_k_samples()
    {
        Gen.Select(Gen.Double[0.1, 2], Gen.Double[1, 30], Gen.Double[0.3, 10], Gen.Double[0, 0.2], Gen.Double[-1, 1].Array[0, 200], Gen.Double[-1, 1].Array[400],
                Gen.Bool).Sample((k, h, excess, e, before, after, down) =>
        {
            double d = k + e + excess;
            var cusum = new Cusum(k, h);
            foreach (double u in before) cusum.Add(u * k);
            int bound = (int)Math.Ceiling(h / (d - k - e)) + 1;
            for (int i = 0; i < bound && i < after.Length; i++)
            {
                double z = (down ? -d : d) + after[i] * e;
                cusum.Add(z);
                if (down ? cusum.LowerSignals : cusum.UpperSignals) return true;
            }
            return false;
        });
    }

    [Fact]
    public void Non_finite_samples_are_ignored()
    {
        Gen.Double.Array[1, 100].Sample(values =>
        {
            var cusum = new Cusum(0.5, 5);
            foreach (double v in values) cusum.Add(v);
            return double.IsFinite(cusum.Upper) && double.IsFinite(cusum.Lower) && cusum.Upper >= 0 && cusum.Lower >= 0;
        });
    }

    /// <summary>Siegmund's run length (the README's false-alarm figures rest on it) against a seeded simulation of N(0, 1) samples.</summary>
    [Fact]
    public void The_in_control_run_length_matches_Siegmunds_approximation_within_15_percent()
    {
        var random = new Random(51);
        const double k = 0.5, h = 4;
        long samples = 0;
        int signals = 0;
        var cusum = new Cusum(k, h);
        while (signals < 2000)
        {
            double z = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            cusum.Add(z);
            samples++;
            if (cusum.UpperSignals)
            {
                signals++;
                cusum.Reset();
            }
        }
        double measured = (double)samples / signals;
        Assert.InRange(measured / Cusum.InControlRunLength(k, h), 0.85, 1.15);
    }

    [Fact]
    public void Bad_parameters_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Cusum(-1, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Cusum(0.5, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Cusum(0.5, double.NaN));
    }

    /// <summary>The whole monitor on a stationary link, at block sizes 2^12..2^24 and 1..100 km: nothing alarms.</summary>
    /// <remarks>
    /// The blocks' counts are binomial draws, so a false alarm has a small but real probability for any one link: with
    /// fresh random cases per run this test failed now and then (a vacuum_yield alarm at 2^17-bit blocks and 35 km). A
    /// CsCheck seed pins only the first case, the other iterations stay random, so the 60 links are drawn here from one
    /// fixed generator: the same 60 every run. The false-alarm rate itself is measured by FalseAlarmRateTests over
    /// 100,000 blocks.
    /// </remarks>
    [Fact]
    public void A_monitor_fed_a_stationary_link_never_alarms()
    {
        var cases = new Random(20261207);
        for (int i = 0; i < 60; i++)
        {
            int log2Block = cases.Next(12, 25);
            double km = 1 + 99 * cases.NextDouble();
            int seed = cases.Next();
            var link = new SyntheticLink(seed) { BlockSiftedZ = 1L << log2Block, DistanceKm = km };
            var monitor = new LinkMonitor();
            for (long b = 0; b < 60; b++) monitor.Observe(link.Block(b));
            Assert.True(monitor.Board.RaisedTotal == 0, $"2^{log2Block}-bit blocks at {km:F1} km (link seed {seed}): "
                + string.Join("; ", monitor.Board.History.Select(c => c.Alarm.Message)));
        }
    }
}
