namespace Qkd.Calibration.Tests;

/// <summary>The typed refusal: what it says and how much more data it asks for.</summary>
public sealed class InsufficientDataTests
{
    [Fact]
    public void A_shortfall_names_the_quantity_what_it_had_and_the_minimum()
    {
        var shortfall = new DataShortfall("delay of channel 1", "tags folded", 1, 100);
        Assert.Equal("delay of channel 1: tags folded 1, at least 100 needed", shortfall.ToString());
        Assert.Equal(100, shortfall.MoreFactor);
        Assert.Null(DataShortfall.Check("q", "u", 100, 100));
        Assert.Equal(0, DataShortfall.Check("q", "u", double.NaN, 100)!.Value.Have);
    }

    [Fact]
    public void The_message_puts_the_furthest_short_first_and_says_the_factor_that_meets_them_all()
    {
        var refusal = new InsufficientDataException(
        [
            new DataShortfall("a", "clicks", 50, 100),
            new DataShortfall("b", "clicks", 10, 100),
            new DataShortfall("c", "clicks", 90, 100),
            new DataShortfall("d", "clicks", 80, 100),
            new DataShortfall("e", "clicks", 70, 100),
        ]);
        Assert.Equal(10, refusal.MoreFactor);
        Assert.StartsWith("not enough data: b: clicks 10, at least 100 needed; a:", refusal.Message);
        Assert.Contains("and 1 more", refusal.Message);
        Assert.EndsWith("(about 10x more data needed)", refusal.Message);
        Assert.DoesNotContain('\n', refusal.Message);
    }

    [Fact]
    public void No_refusal_without_a_shortfall()
    {
        InsufficientDataException.ThrowIfAny([null, null]);
        Assert.Throws<ArgumentException>(() => new InsufficientDataException(Array.Empty<DataShortfall>()));
    }

    [Fact]
    public void Thin_detector_captures_are_refused_per_estimate()
    {
        // 50 clicks on channel 1, a few hundred on channel 2: rates, dead times and afterpulsing all short.
        var tags = new List<Core.TimeTags.TimeTag>();
        for (int i = 0; i < 50; i++) tags.Add(new Core.TimeTags.TimeTag(1_000_000L * i, 1));
        for (int i = 0; i < 300; i++) tags.Add(new Core.TimeTags.TimeTag(1_000_000L * i + 500, 2));
        tags.Sort((a, b) => a.TimePs.CompareTo(b.TimePs));
        var calibration = new DetectorCalibration([1, 2], 1000, 100_000);
        calibration.Add(tags.ToArray());
        var refusal = Assert.Throws<InsufficientDataException>(() => calibration.Analyse(0.0003));
        Assert.Contains(refusal.Shortfalls, s => s.Quantity == "click rate of channel 1" && s.Have == 50 && s.Needed == DataMinimums.RateClicks);
        Assert.DoesNotContain(refusal.Shortfalls, s => s.Quantity == "click rate of channel 2");
        Assert.Contains(refusal.Shortfalls, s => s.Quantity == "afterpulsing of channel 2" && s.Needed == DataMinimums.AfterpulseIntervals);
        Assert.Contains(refusal.Shortfalls, s => s.Quantity == "dead time of channel 1");
    }

    [Fact]
    public void A_rate_meter_keeps_the_counts_behind_its_rates()
    {
        var meter = new CountRateMeter(2);
        meter.Rates([100, 0], 1);
        var rates = meter.Rates([500, 9], 2);
        Assert.Equal([200, 4.5], rates);
        Assert.Equal([400L, 9L], meter.LastCounts);
        Assert.Equal(2, meter.LastIntervalSeconds);
        Assert.Equal(Math.Sqrt(400) / 2, meter.LastUncertainty(0), 9);
        Assert.Equal(1.5, CountRateMeter.Uncertainty(9, 2), 9);
    }
}
