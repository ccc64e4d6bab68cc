using Qkd.Monitoring;

namespace Qkd.Monitoring.Tests;

/// <summary>
/// The arrival-time statistics (each detector's mean arrival offset, the spread of all arrivals): a time-shift attack
/// (early light favouring the bit-0 detectors, late light the bit-1 ones, as in the emulator with 100 ps shifts and
/// efficiency windows 60 ps apart) raises a timing alarm that holds key within 2 blocks; honest arrivals raise nothing;
/// the receiver's cumulative sums become per-block intervals; inconsistent sums are refused by name.
/// </summary>
public sealed class ArrivalTimeTests
{
    private const long Onset = 12;
    private const double JitterPs = 40;

    /// <summary>Arrival sums of one block: per detector n tags with offsets N(mean, spread^2), sampled as their sums' distribution.</summary>
    private static BlockObservation WithArrivals(BlockObservation block, Random random, Func<int, double> meanPs, double spreadPs)
    {
        var clicks = block.ClicksPerDetector!;
        var tags = new long[clicks.Length];
        var sums = new double[clicks.Length];
        var squares = new double[clicks.Length];
        for (int d = 0; d < clicks.Length; d++)
        {
            long n = tags[d] = clicks[d];
            double sampleMean = meanPs(d) + spreadPs / Math.Sqrt(n) * Normal(random);
            // Sample variance ~ spread^2 (1 + sqrt(2/n) z) for large n.
            double sampleVariance = spreadPs * spreadPs * Math.Max(0, 1 + Math.Sqrt(2.0 / n) * Normal(random));
            sums[d] = n * sampleMean;
            squares[d] = n * (sampleVariance + sampleMean * sampleMean);
        }
        return block with { ArrivalTags = tags, ArrivalSumPs = sums, ArrivalSumSquaresPs2 = squares };
    }

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    [Fact]
    public void A_time_shift_moving_each_detectors_mean_arrival_raises_a_timing_alarm_that_holds_key_within_2_blocks()
    {
        // Detector d of a passive receiver: bit d & 1. Early (-100 ps) light is detected 72 % of the time by bit-0
        // detectors, late light likewise by bit-1 ones: means -44 and +44 ps, spread sqrt(40^2 + 100^2 - 44^2) = 97 ps.
        var link = new SyntheticLink(41) { BlockSiftedZ = 1L << 18 };
        var random = new Random(41);
        var monitor = new LinkMonitor();
        var raised = new List<LinkAlarm>();
        for (long b = 0; b < Onset + 4; b++)
        {
            bool attacked = b >= Onset;
            var block = WithArrivals(link.Block(b), random, d => attacked ? ((d & 1) == 0 ? -44 : 44) : 0, attacked ? 97 : JitterPs);
            raised.AddRange(monitor.Observe(block).Raised);
        }
        var timing = raised.Where(a => a.Kind == AlarmKind.TimingAnomaly).ToList();
        Assert.NotEmpty(timing);
        Assert.InRange(timing.Min(a => a.BlockId), Onset, Onset + 1);
        Assert.Contains(timing, a => a.Statistic == "arrival_spread" && a.Unit == "ps");
        Assert.Contains(timing, a => a.Statistic == "detector.0.arrival" && a.Value < -30);
        Assert.All(timing, a => Assert.True(a.ThreatensSecurity));
        Assert.True(monitor.Board.HoldsKey);
        Assert.DoesNotContain(raised, a => a.BlockId < Onset);
        var latest = monitor.Latest!;
        Assert.InRange(latest.ArrivalSpreadPs!.Value, 90, 104);
        Assert.InRange(latest.ArrivalMeanPs![1]!.Value, 40, 48);
    }

    [Fact]
    public void Honest_arrivals_raise_no_timing_alarm_over_2000_blocks()
    {
        var link = new SyntheticLink(42) { BlockSiftedZ = 1L << 18 };
        var random = new Random(42);
        var monitor = new LinkMonitor();
        var raised = new List<LinkAlarm>();
        for (long b = 0; b < 2000; b++)
            raised.AddRange(monitor.Observe(WithArrivals(link.Block(b), random, _ => 0, JitterPs)).Raised);
        Assert.DoesNotContain(raised, a => a.Kind == AlarmKind.TimingAnomaly);
    }

    [Fact]
    public void The_receivers_cumulative_arrival_sums_become_per_block_intervals()
    {
        var counts = new ReceiverCounts();
        var first = counts.Take([10, 20], 30, 1, 1000, new ArrivalSums([10, 20], [50, -40], [400, 900]));
        Assert.Equal([10L, 20L], first!.Arrivals!.Tags);
        var second = counts.Take([15, 30], 45, 2, 2000, new ArrivalSums([15, 30], [60, -20], [500, 1000]));
        Assert.Equal([5L, 10L], second!.Arrivals!.Tags);
        Assert.Equal([10.0, 20.0], second.Arrivals.SumPs);
        Assert.Equal([100.0, 100.0], second.Arrivals.SumSquaresPs2);
        var block = SiftedBlock.Observation(1, DateTimeOffset.UnixEpoch, 1000, [0.5, 0.15, 0], [0.65, 0.25, 0.1], 0.75, 0.75,
            [1, 1, 0], [1, 1, 0], [0, 0, 0], [0, 0, 0], 1e9, second);
        Assert.Equal([5L, 10L], block.ArrivalTags);
        Assert.Equal([10.0, 20.0], block.ArrivalSumPs);
    }

    [Fact]
    public void Arrival_sums_without_their_counts_are_refused_by_name()
    {
        var block = new SyntheticLink(43).Block(0) with { ArrivalSumPs = [1, 2, 3, 4] };
        var e = Assert.Throws<ArgumentException>(() => new LinkMonitor().Observe(block));
        Assert.Contains("ArrivalTags", e.Message);
        var negative = new SyntheticLink(43).Block(0) with { ArrivalTags = [1, 1, 1, 1], ArrivalSumPs = [0, 0, 0, 0], ArrivalSumSquaresPs2 = [0, -1, 0, 0] };
        Assert.Contains("detector 1", Assert.Throws<ArgumentException>(() => new LinkMonitor().Observe(negative)).Message);
    }
}
