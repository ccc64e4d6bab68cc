using Qkd.Core.TimeTags;

namespace Qkd.Calibration.Tests;

public sealed class TimeDifferenceHistogramTests
{
    private static TimeTag[] RandomTags(int seed, int count)
    {
        var random = new Random(seed);
        var tags = new TimeTag[count];
        long t = 0;
        for (int i = 0; i < count; i++)
        {
            t += random.Next(0, 400);
            tags[i] = new TimeTag(t, (ushort)random.Next(0, 3));
        }
        return tags;
    }

    [Fact]
    public void Start_stop_counts_are_conserved_bins_plus_out_of_range_equal_pairs()
    {
        var tags = RandomTags(1, 20_000);
        var histogram = new TimeDifferenceHistogram(0, 1, 100, 600, 10, PairingMode.NearestStart);
        histogram.Add(tags.AsSpan(0, 7_000));
        histogram.Add(tags.AsSpan(7_000));

        long expectedPairs = 0;
        bool seenStart = false;
        foreach (var tag in tags)
        {
            if (tag.Channel == 1 && seenStart) expectedPairs++;
            if (tag.Channel == 0) seenStart = true;
        }
        long sum = 0;
        foreach (long c in histogram.Counts) sum += c;
        Assert.Equal(expectedPairs, histogram.Pairs);
        Assert.Equal(histogram.Pairs, sum + histogram.BelowRange + histogram.AboveRange);
        Assert.True(histogram.BelowRange > 0 && histogram.AboveRange > 0 && sum > 0);
    }

    [Theory]
    [InlineData(-500L, 700L, 10L)]
    [InlineData(0L, 1000L, 7L)]
    [InlineData(200L, 900L, 50L)]
    [InlineData(-900L, -100L, 25L)]
    public void All_pairs_equal_a_brute_force_count_bin_by_bin(long min, long max, long width)
    {
        var tags = RandomTags(2, 4_000);
        var histogram = new TimeDifferenceHistogram(0, 1, min, max, width);
        histogram.Add(tags);

        var expected = new long[histogram.BinCount];
        for (int i = 0; i < tags.Length; i++)
        {
            if (tags[i].Channel != 0) continue;
            for (int j = 0; j < tags.Length; j++)
            {
                if (tags[j].Channel != 1) continue;
                long d = tags[j].TimePs - tags[i].TimePs;
                if (d >= histogram.MinPs && d < histogram.MaxPs) expected[(d - histogram.MinPs) / width]++;
            }
        }
        Assert.Equal(expected, histogram.Counts.ToArray());
        Assert.Equal(expected.Sum(), histogram.Pairs);
    }

    [Fact]
    public void Bad_ranges_are_refused()
    {
        Assert.Throws<ArgumentException>(() => new TimeDifferenceHistogram(0, 1, 100, 100, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TimeDifferenceHistogram(0, 1, 0, 100, 0));
        Assert.Throws<ArgumentException>(() => new TimeDifferenceHistogram(2, 2, 0, 100, 10, PairingMode.NearestStart));
        var h = new TimeDifferenceHistogram(0, 1, 0, 100, 10);
        Assert.Throws<ArgumentException>(() => h.Add([new TimeTag(10, 0), new TimeTag(5, 1)]));
    }
}
