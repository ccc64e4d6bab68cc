using CsCheck;
using Qkd.Core.Random;

namespace Qkd.Core.Tests.Entropy;

/// <summary>
/// The continuous health tests of SP 800-90B section 4.4 on seeded sources: a stuck source trips the Repetition Count
/// Test, a biased one the Adaptive Proportion Test, a good one neither; the recovery rule; and the word-at-a-time scans
/// against the standard's sample-by-sample algorithm.
/// </summary>
public sealed class EntropyHealthMonitorTests
{
    private static EntropyHealthMonitor Healthy(EntropyHealthOptions? options = null)
    {
        var monitor = new EntropyHealthMonitor(options ?? new EntropyHealthOptions());
        int bytes = (int)(monitor.RecoverySamples / (monitor.Samples == EntropySampleKind.Binary ? 8 : 1)) + 8;
        Assert.False(monitor.Test(TestSources.Good(bytes, seed: 99)));
        Assert.Equal(EntropyHealthState.Healthy, monitor.State);
        return monitor;
    }

    [Theory]
    [InlineData(0x00)]
    [InlineData(0xFF)]
    public void A_stuck_bit_source_trips_the_repetition_count_test_at_its_cutoff(byte stuck)
    {
        var monitor = Healthy();
        long before = monitor.SamplesTested;
        var run = new byte[4]; // 32 samples: one run that reaches the cutoff of 31 once
        Array.Fill(run, stuck);
        Assert.False(monitor.Test(run));
        Assert.Equal(EntropyHealthState.Failed, monitor.State);
        HealthTestFailure failure = monitor.LastFailure!.Value;
        Assert.Equal(HealthTest.RepetitionCount, failure.Test);
        Assert.Equal(31, failure.Cutoff);
        Assert.Equal(31, failure.Count);
        Assert.Equal(stuck & 1, failure.Value);
        // The run may have begun in the good data before; it trips no later than the 31st stuck sample.
        Assert.InRange(failure.Sample, before, before + 30);
        Assert.Equal(1, monitor.RepetitionCountFailures);
        Assert.Contains("repetition count test", failure.ToString());
        // A source that stays stuck trips again every 31 samples: recovery never completes.
        Assert.False(monitor.Test(new byte[125].Select(_ => stuck).ToArray()));
        Assert.InRange(monitor.RepetitionCountFailures, 1 + 1000 / 31, 2 + 1000 / 31);
        Assert.Equal(EntropyHealthState.Failed, monitor.State);
    }

    [Fact]
    public void A_run_of_exactly_cutoff_minus_one_passes_and_the_cutoff_th_sample_trips()
    {
        var test = new RepetitionCountTest(5);
        Assert.False(test.Add(1));
        for (int i = 2; i <= 4; i++) Assert.False(test.Add(1));
        Assert.Equal(4, test.Count);
        Assert.True(test.Add(1));
        var fresh = new RepetitionCountTest(5);
        Assert.Equal(4, fresh.ScanBits([0b0001_1111], 0, 8)); // samples 0..4 are 1: the fifth (index 4) trips
        var other = new RepetitionCountTest(5);
        Assert.Equal(-1, other.ScanBits([0b1110_1111], 0, 8)); // runs of 4, 1, 3
    }

    [Fact]
    public void A_stuck_byte_source_trips_the_byte_wise_repetition_count_test()
    {
        var monitor = Healthy(new EntropyHealthOptions { Samples = EntropySampleKind.Byte, MinEntropyPerSample = 8, AlphaExponent = 20 });
        Assert.False(monitor.Test([0xA5, 0xA5, 0xA5, 0xA5, 0xA5]));
        HealthTestFailure failure = monitor.LastFailure!.Value;
        Assert.Equal(HealthTest.RepetitionCount, failure.Test);
        Assert.Equal(4, failure.Count);
        Assert.Equal(0xA5, failure.Value);
    }

    [Theory]
    [InlineData(0.6, 1UL)]
    [InlineData(0.6, 2UL)]
    [InlineData(0.4, 3UL)]
    [InlineData(0.65, 4UL)]
    public void A_biased_bit_source_trips_the_adaptive_proportion_test(double probabilityOfOne, ulong seed)
    {
        var monitor = Healthy();
        byte[] biased = TestSources.Biased(16 * 1024 / 8, probabilityOfOne, seed); // 16 windows
        Assert.False(monitor.Test(biased));
        Assert.Equal(EntropyHealthState.Failed, monitor.State);
        HealthTestFailure failure = monitor.LastFailure!.Value;
        Assert.Equal(HealthTest.AdaptiveProportion, failure.Test);
        Assert.Equal(609, failure.Cutoff);
        Assert.Equal(609, failure.Count);
        Assert.Equal(probabilityOfOne > 0.5 ? 1 : 0, failure.Value);
        Assert.InRange(failure.Observed, 609, 1024);
        Assert.True(monitor.AdaptiveProportionFailures >= 1);
        Assert.Equal(0, monitor.RepetitionCountFailures);
        Assert.Contains("adaptive proportion test", failure.ToString());
    }

    [Theory]
    [InlineData(EntropySampleKind.Binary, 1.0, 30, 1UL)]
    [InlineData(EntropySampleKind.Binary, 1.0, 30, 2UL)]
    [InlineData(EntropySampleKind.Binary, 0.9, 20, 3UL)]
    [InlineData(EntropySampleKind.Byte, 8.0, 20, 4UL)]
    [InlineData(EntropySampleKind.Byte, 7.0, 30, 5UL)]
    public void A_good_source_stays_quiet_over_a_million_samples(EntropySampleKind kind, double h, int alphaExponent, ulong seed)
    {
        var options = new EntropyHealthOptions { Samples = kind, MinEntropyPerSample = h, AlphaExponent = alphaExponent };
        var monitor = new EntropyHealthMonitor(options);
        byte[] good = TestSources.Good(kind == EntropySampleKind.Binary ? 1_000_000 / 8 : 1_000_000, seed);
        // In buffers of varied sizes, as a driver receives blocks.
        int at = 0, usable = 0;
        for (int size = 1; at < good.Length; size = size * 7 % 5003 + 1)
        {
            int n = Math.Min(size, good.Length - at);
            if (monitor.Test(good.AsSpan(at, n))) usable += n;
            at += n;
        }
        Assert.Equal(1_000_000, monitor.SamplesTested);
        Assert.Equal(0, monitor.Failures);
        Assert.Null(monitor.LastFailure);
        Assert.Equal(EntropyHealthState.Healthy, monitor.State);
        Assert.True(usable > good.Length - (int)(monitor.RecoverySamples / (kind == EntropySampleKind.Binary ? 8 : 1)) - 5003);
    }

    [Fact]
    public void Start_up_needs_the_recovery_run_and_a_buffer_is_used_only_if_healthy_from_its_first_sample()
    {
        var monitor = new EntropyHealthMonitor(new EntropyHealthOptions());
        Assert.Equal(EntropyHealthState.Starting, monitor.State);
        Assert.Equal(16 * 1024, monitor.SamplesUntilHealthy);
        byte[] good = TestSources.Good(4096, seed: 5);
        Assert.False(monitor.Test(good.AsSpan(0, 2047)));    // 16 376 samples: 8 short
        Assert.Equal(EntropyHealthState.Starting, monitor.State);
        Assert.Equal(8, monitor.SamplesUntilHealthy);
        Assert.False(monitor.Test(good.AsSpan(2047, 2)));    // recovery completes inside this buffer: not used
        Assert.Equal(EntropyHealthState.Healthy, monitor.State);
        Assert.True(monitor.Test(good.AsSpan(2049, 100)));
    }

    [Fact]
    public void After_a_failure_the_source_must_pass_the_whole_recovery_run_again_and_a_failure_during_it_starts_over()
    {
        var monitor = Healthy();
        Assert.False(monitor.Test(new byte[4])); // 32 zeros: the repetition count test trips once
        Assert.Equal(EntropyHealthState.Failed, monitor.State);
        long failedAt = monitor.LastFailure!.Value.Sample;
        // Samples after the failing one already count toward recovery.
        Assert.Equal(16 * 1024 - (monitor.SamplesTested - 1 - failedAt), monitor.SamplesUntilHealthy);

        byte[] good = TestSources.Good(16 * 1024 / 8, seed: 6);
        Assert.False(monitor.Test(good.AsSpan(0, 1000)));
        Assert.Equal(EntropyHealthState.Failed, monitor.State);
        Assert.False(monitor.Test(new byte[4]));  // stuck again during recovery: a second failure, the count starts over
        Assert.Equal(2, monitor.RepetitionCountFailures);
        long remaining = monitor.SamplesUntilHealthy;
        Assert.True(remaining > 16 * 1024 - 64);
        Assert.False(monitor.Test(good));
        Assert.Equal(EntropyHealthState.Healthy, monitor.State);
        Assert.True(monitor.Test(TestSources.Good(64, seed: 7)));
        Assert.NotNull(monitor.LastFailure); // kept for reports
    }

    [Fact]
    public void A_discontinuity_restarts_the_tests_and_an_unfinished_recovery_but_keeps_a_healthy_source_healthy()
    {
        var monitor = Healthy();
        var half = new byte[2];                    // 16 zeros: half a run toward the cutoff of 31
        Assert.True(monitor.Test(half));
        monitor.Discontinuity();
        Assert.Equal(0, monitor.RepetitionCount.Count);
        Assert.True(monitor.Test(half));           // the two halves are not one run
        Assert.Equal(EntropyHealthState.Healthy, monitor.State);

        monitor.Restart();
        Assert.Equal(EntropyHealthState.Starting, monitor.State);
        Assert.False(monitor.Test(TestSources.Good(1000, seed: 8)));
        monitor.Discontinuity();
        Assert.Equal(16 * 1024, monitor.SamplesUntilHealthy);
    }

    [Fact]
    public void New_cutoffs_restart_both_tests_and_keep_state_and_counters()
    {
        var monitor = Healthy();
        Assert.True(monitor.Test([0x00, 0x00])); // a run of 16 zeros, below 31
        long tested = monitor.SamplesTested;
        monitor.SetCutoffs(8, 1024);
        Assert.Equal(8, monitor.RepetitionCount.Cutoff);
        Assert.Equal(0, monitor.RepetitionCount.Count);
        Assert.Equal(EntropyHealthState.Healthy, monitor.State);
        Assert.Equal(tested, monitor.SamplesTested);
        Assert.False(monitor.Test([0x00]));      // 8 zeros now trip it
        Assert.Equal(HealthTest.RepetitionCount, monitor.LastFailure!.Value.Test);
        Assert.Equal(8, monitor.LastFailure.Value.Cutoff);
        Assert.Throws<ArgumentOutOfRangeException>(() => monitor.SetCutoffs(8, 1026));
        Assert.Equal(8, monitor.RepetitionCount.Cutoff); // a refused change changes nothing
    }

    /// <summary>
    /// The word-at-a-time scans find the same failing samples and end in the same state as the standard's
    /// sample-by-sample algorithm, for any data (biased, so that runs and windows trip), cutoffs and split points.
    /// </summary>
    [Fact]
    public void Bit_scans_agree_with_the_sample_by_sample_algorithm()
    {
        Gen.Select(Gen.Double[0.02, 0.98], Gen.Int[1, 200], Gen.ULong, Gen.Int[2, 40], Gen.Int[2, 1025], Gen.Int[0, 1600]).Sample(
            (bias, bytes, seed, repetitionCutoff, proportionCutoff, split) =>
            {
                byte[] data = TestSources.Biased(bytes, bias, seed);
                long total = data.Length * 8L;
                long cut = Math.Min(split, total);
                var scanRct = new RepetitionCountTest(repetitionCutoff);
                var stepRct = new RepetitionCountTest(repetitionCutoff);
                var scanApt = new AdaptiveProportionTest(1024, proportionCutoff);
                var stepApt = new AdaptiveProportionTest(1024, proportionCutoff);
                foreach ((long from, long to) in new[] { (0L, cut), (cut, total) })
                {
                    long at = from;
                    while (at < to)
                    {
                        long r = scanRct.ScanBits(data, at, to);
                        long expected = -1;
                        for (long i = at; i < to && expected < 0; i++)
                            if (stepRct.Add(TestSources.Sample(data, EntropySampleKind.Binary, i))) expected = i;
                        Assert.Equal(expected, r);
                        Assert.Equal(stepRct.Count, scanRct.Count);
                        if (r < 0) break;
                        scanRct.Reset();
                        stepRct.Reset();
                        at = r + 1;
                    }
                    at = from;
                    while (at < to)
                    {
                        long p = scanApt.ScanBits(data, at, to);
                        long expected = -1;
                        for (long i = at; i < to && expected < 0; i++)
                            if (stepApt.Add(TestSources.Sample(data, EntropySampleKind.Binary, i))) expected = i;
                        Assert.Equal(expected, p);
                        Assert.Equal(stepApt.Position, scanApt.Position);
                        Assert.Equal(stepApt.Count, scanApt.Count);
                        if (p < 0) break;
                        scanApt.Reset();
                        stepApt.Reset();
                        at = p + 1;
                    }
                }
            }, iter: 400, seed: "0Rn3g7Hq2Tzs");
    }
}
