namespace Qkd.Calibration.Tests;

public sealed class CountRateMeterTests
{
    [Fact]
    public void Rates_are_the_counts_since_the_previous_reading_over_the_interval()
    {
        var meter = new CountRateMeter(4);
        Assert.Equal([100.0, 0, 20], meter.Rates([50, 0, 10], 0.5));
        Assert.Equal([200.0, 10, 20], meter.Rates([250, 10, 30], 1));
        // A reading with more channels than before starts the new ones from zero.
        Assert.Equal([0.0, 0, 0, 40], meter.Rates([250, 10, 30, 40], 1));
    }

    [Fact]
    public void Bad_readings_are_refused()
    {
        var meter = new CountRateMeter(2);
        Assert.Throws<ArgumentException>(() => meter.Rates([1, 2, 3], 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => meter.Rates([1, 2], 0));
    }
}
