using CsCheck;
using Qkd.Core;
using Qkd.Core.TimeTags;

namespace Qkd.Calibration.Tests;

/// <summary>The delay calibration's maths on synthetic captures whose delay, jitter, fibre and clock drift are set here.</summary>
public sealed class DelayFitTests
{
    private const double Period = 1000;
    private const int Divider = 64;

    private static DelayCalibrationOptions Options(double pathDelayPs, long binWidthPs = 10) => new()
    {
        SyncChannel = SyntheticTags.SyncChannel,
        DetectorChannels = [1],
        SyncDivider = Divider,
        PulsePeriodPs = Period,
        PathDelayPs = pathDelayPs,
        BinWidthPs = binWidthPs,
    };

    [Fact]
    public void The_sync_gives_the_period_on_the_receivers_clock()
    {
        var pattern = SyntheticTags.AlicePattern(1);
        var tags = SyntheticTags.DelayTrain(new Random(1), p => pattern.IntensityAt(p) == Intensity.Vacuum, 50_000, Divider, Period, 0, 0, 20, clockDriftPpm: 7);
        var sync = SyncPeriod.Measure(tags, SyntheticTags.SyncChannel, Divider);
        Assert.Equal((50_000 + Divider - 1) / Divider, sync.SyncTags);
        Assert.True(sync.IsMeasured);
        Assert.InRange(sync.PulsePeriodPs / (Period * (1 + 7e-6)) - 1, -1e-8, 1e-8);

        var one = SyncPeriod.Measure([new TimeTag(5, 0), new TimeTag(9, 1)], 0, Divider);
        Assert.False(one.IsMeasured);
        Assert.True(double.IsNaN(one.PulsePeriodPs));
    }

    [Fact]
    public void Folding_a_sharp_train_puts_the_fullest_bin_on_the_delay_modulo_the_period_and_centres_the_window_on_it()
    {
        Gen.Select(Gen.Double[-5 * Period, 5 * Period], Gen.Double[0, 1.3e8], Gen.Double[-20, 20], Gen.Int).Sample((delay, path, drift, seed) =>
        {
            var random = new Random(seed);
            var tags = SyntheticTags.DelayTrain(random, _ => false, 20_000, Divider, Period, path, delay, jitterPs: 3, drift, darkCountsPerPulse: 0);
            double period = SyncPeriod.Measure(tags, SyntheticTags.SyncChannel, Divider).PulsePeriodPs;
            var fold = new DelayFold(SyntheticTags.SyncChannel, path * period / Period, period, 10);

            var coarse = new long[fold.Bins];
            long folded = fold.Fold(tags, 1, 0, coarse);
            // Every detector tag after the first sync, and only those, is folded.
            Assert.Equal(tags.SkipWhile(t => t.Channel != SyntheticTags.SyncChannel).Count(t => t.Channel == 1), folded);
            Assert.Equal(folded, coarse.Sum());
            int max = Array.IndexOf(coarse, coarse.Max());
            Assert.InRange(SyntheticTags.ModularDistance((max + 0.5) * 10, delay * (1 + drift * 1e-6), period), -10, 10);

            var centred = fold.Centred(tags, 1);
            Assert.Equal(folded, centred.Tags);
            int peak = Array.IndexOf(centred.Counts, centred.Counts.Max());
            Assert.InRange(peak, centred.Counts.Length / 2 - 1, centred.Counts.Length / 2 + 1);
        }, iter: 40);
    }

    [Fact]
    public void A_train_with_a_known_delay_gives_it_back_within_one_bin_with_the_whole_periods_from_alices_vacuum_pulses()
    {
        Gen.Select(Gen.Double[-8 * Period, 8 * Period], Gen.Double[15, 60], Gen.Double[0, 1.3e8], Gen.Double[-20, 20], Gen.Int).Sample(
            (delay, jitter, path, drift, seed) =>
            {
                var pattern = SyntheticTags.AlicePattern((ulong)(uint)seed);
                Func<long, bool> isVacuum = p => pattern.IntensityAt(p) == Intensity.Vacuum;
                var tags = SyntheticTags.DelayTrain(new Random(seed), isVacuum, 100_000, Divider, Period, path, delay, jitter, drift);

                var fit = DelayFit.Fit(tags, Options(path), isVacuum);

                var detector = Assert.Single(fit.Detectors);
                Assert.Equal(WholePeriodsResolution.AlicePattern, detector.WholePeriods.ResolvedBy);
                Assert.InRange(detector.DelayPs!.Value - delay * (1 + drift * 1e-6), -10, 10);
                // The right shift puts almost no in-peak click on a vacuum pulse; any other lands on Alice's 10 %.
                Assert.True(detector.WholePeriods.VacuumClickFraction < 0.02, $"{detector.WholePeriods}");
                Assert.InRange(detector.WholePeriods.VacuumClickFractionElsewhere, 0.05, 0.15);
            }, iter: 40);
    }

    [Fact]
    public void Without_alices_pattern_the_whole_periods_come_from_an_expected_delay_within_half_a_period()
    {
        Gen.Select(Gen.Double[-8 * Period, 8 * Period], Gen.Double[-0.4 * Period, 0.4 * Period], Gen.Int).Sample((delay, guessError, seed) =>
        {
            var tags = SyntheticTags.DelayTrain(new Random(seed), _ => false, 50_000, Divider, Period, 0, delay, 40, 0);
            var fit = DelayFit.Fit(tags, Options(0) with { ExpectedDelayPs = delay + guessError });
            var detector = Assert.Single(fit.Detectors);
            Assert.Equal(WholePeriodsResolution.ExpectedDelay, detector.WholePeriods.ResolvedBy);
            Assert.InRange(detector.DelayPs!.Value - delay, -10, 10);
            Assert.True(double.IsNaN(detector.WholePeriods.VacuumClickFraction));
        }, iter: 40);
    }

    [Fact]
    public void The_fibre_is_scaled_to_the_receivers_clock_before_it_is_subtracted()
    {
        // 20 ppm of 122 us of fibre is 2.4 ns: unscaled, the folded phase would be 440 ps off.
        var tags = SyntheticTags.DelayTrain(new Random(4), _ => false, 50_000, Divider, Period, 1.22e8, 1234, 40, 20);
        var fit = DelayFit.Fit(tags, Options(1.22e8) with { ExpectedDelayPs = 1234 });
        Assert.InRange(fit.PathDelayPs - 1.22e8 * (1 + 20e-6), -1, 1);
        Assert.InRange(fit.Detectors[0].DelayPs!.Value - 1234, -10, 10);
    }

    [Fact]
    public void A_silent_detector_refuses_the_whole_calibration_naming_its_channel()
    {
        var tags = SyntheticTags.DelayTrain(new Random(5), _ => false, 10_000, Divider, Period, 0, 300, 40, 0);
        var refusal = Assert.Throws<InsufficientDataException>(() => DelayFit.Fit(tags, Options(0) with { DetectorChannels = [1, 7] }));
        var shortfall = Assert.Single(refusal.Shortfalls);
        Assert.Equal("delay of channel 7", shortfall.Quantity);
        Assert.Equal(0, shortfall.Have);
        Assert.Equal(DataMinimums.DelayTagsPerChannel, shortfall.Needed);
        Assert.True(double.IsPositiveInfinity(refusal.MoreFactor));
    }

    [Fact]
    public void A_handful_of_tags_is_refused_with_how_much_more_is_needed()
    {
        // 20,000 pulses at 5 % clicks would give ~1,000 tags; 0.05 % gives about 10: the "peak" would be a single bin.
        var tags = SyntheticTags.DelayTrain(new Random(6), _ => false, 20_000, Divider, Period, 0, 300, 40, 0, clickProbability: 5e-4, darkCountsPerPulse: 1e-5);
        var refusal = Assert.Throws<InsufficientDataException>(() => DelayFit.Fit(tags, Options(0) with { ExpectedDelayPs = 300 }));
        var shortfall = Assert.Single(refusal.Shortfalls);
        Assert.Equal("tags folded", shortfall.Unit);
        Assert.InRange(shortfall.Have, 1, 30);
        Assert.Equal(DataMinimums.DelayTagsPerChannel / shortfall.Have, refusal.MoreFactor, 6);
        Assert.Contains("delay of channel 1", refusal.Message);
        Assert.Contains("at least 100 needed", refusal.Message);
    }

    [Fact]
    public void A_supported_delay_carries_its_counts_and_uncertainty()
    {
        var pattern = SyntheticTags.AlicePattern(9);
        var tags = SyntheticTags.DelayTrain(new Random(9), p => pattern.IntensityAt(p) == Intensity.Vacuum, 50_000, Divider, Period, 0, 1234, 40, 0);
        var detector = Assert.Single(DelayFit.Fit(tags, Options(0), p => pattern.IntensityAt(p) == Intensity.Vacuum).Detectors);
        Assert.DoesNotContain(DelayFit.Shortfalls(detector), s => s is not null);
        Assert.True(detector.Folded.Tags >= DataMinimums.DelayTagsPerChannel);
        Assert.True(detector.Peak!.Significance >= DataMinimums.PeakSignificance);
        Assert.True(detector.Peak.CentreUncertaintyPs > 0);
        Assert.True(detector.WholePeriods.VacuumClicksElsewhere >= DataMinimums.WholePeriodVacuumClicks);
        Assert.InRange(detector.DelayPs!.Value - 1234, -5 * detector.Peak.CentreUncertaintyPs - 2, 5 * detector.Peak.CentreUncertaintyPs + 2);
    }

    [Fact]
    public void Whole_periods_from_an_expected_delay_round_to_the_nearest()
    {
        Assert.Equal(2, WholePeriods.FromExpectedDelay(2500, 345, 1000).Count);
        Assert.Equal(-3, WholePeriods.FromExpectedDelay(-2400, 345, 1000).Count);
    }

    [Fact]
    public void Too_few_sync_tags_or_the_wrong_divider_are_clear_errors()
    {
        var tags = SyntheticTags.DelayTrain(new Random(6), _ => false, 10_000, Divider, Period, 0, 300, 40, 0);
        var none = Assert.Throws<ArgumentException>(() => DelayFit.Fit(tags, Options(0) with { SyncChannel = 9 }));
        Assert.Contains("0 tags on sync channel 9", none.Message);
        var wrong = Assert.Throws<ArgumentException>(() => DelayFit.Fit(tags, Options(0) with { SyncDivider = 128 }));
        Assert.Contains("check the sync channel and divider", wrong.Message);
        var mismatched = SyncPeriod.Measure(tags, 0, 32);
        Assert.Throws<ArgumentException>(() => DelayFit.Fit(tags, Options(0), mismatched, null));
    }
}
