using System.Numerics;
using CsCheck;
using Qkd.Acquisition.Replay;
using Qkd.Core.TimeTags;
using static Qkd.Acquisition.Tests.Replay.PtuFileBuilder;

namespace Qkd.Acquisition.Tests.Replay;

/// <summary>
/// T3 files whose dtime exceeds the sync period (a HydraHarp with a sync divider: dtime spans several laser periods)
/// are merged by true time, sync time + dtime, and the reader hands tags out in time order; what cannot be placed is
/// counted. Also the exact time arithmetic of <see cref="RationalPicoseconds"/>.
/// </summary>
public sealed class PtuT3ReorderTests
{
    private const uint HydraHarpV2T3 = 0x01010304;

    private static List<TimeTag> ReadAll(byte[] file, out PtuReader reader, int batch = 1000, PtuReaderOptions? options = null)
    {
        reader = new PtuReader(new MemoryStream(file), "divided.ptu", options);
        return TimeTagFileTestData.ReadAll(reader, batch);
    }

    private static void AssertTimeOrdered(IReadOnlyList<TimeTag> tags)
    {
        for (int i = 1; i < tags.Count; i++)
            Assert.True(tags[i].TimePs >= tags[i - 1].TimePs, $"tag {i} at {tags[i].TimePs} ps follows {tags[i - 1].TimePs} ps");
    }

    [Fact]
    public void Dtime_beyond_the_sync_period_comes_out_in_time_order()
    {
        // 80 MHz sync (12.5 ns), 1 ps dtime bins: dtime reaches 32.8 ns, beyond two sync periods.
        byte[] file = new PtuFileBuilder(HydraHarpV2T3, 12.5e-9, 1e-12).Records(
            HydraT3(false, 0, 30_000, 1),     // 12,500 + 30,000 = 42,500
            HydraT3(false, 1, 100, 2),        // 25,100
            HydraT3(false, 0, 5, 3),          // 37,505
            HydraT3(false, 1, 20_000, 3),     // 57,500
            HydraT3(false, 0, 0, 6)).ToArray(); // 75,000: releases everything before it
        var tags = ReadAll(file, out var reader);
        Assert.Equal(
        [
            new TimeTag(12_500, 0), new TimeTag(25_000, 0), new TimeTag(25_100, 2), new TimeTag(37_500, 0), new TimeTag(37_505, 1),
            new TimeTag(42_500, 1), new TimeTag(57_500, 2), new TimeTag(75_000, 0), new TimeTag(75_000, 1),
        ], tags);
        Assert.Equal(0, reader.TagsNotPlaced);
        Assert.True(reader.ReorderBacklogPeak >= 3, $"backlog peak {reader.ReorderBacklogPeak}");
    }

    [Fact]
    public void A_synthetic_sync_divided_recording_keeps_every_tag_at_its_exact_time()
    {
        // 39 MHz laser divided by 4 at the sync input: a 102.56 ns sync period holding four laser pulses, 25 ps dtime
        // bins (15 bits: 819 ns of range). Events land on the four pulses of each divided period, recorded in sync order
        // but with channel 2 stored before channel 1 whatever their dtimes, and overflow records every 1024 syncs.
        double syncPeriod = 4 / 39e6;
        var random = new Random(7);
        var records = new List<uint>();
        var expected = new List<(BigInteger Syncs, BigInteger Dtime, ushort Channel)>();
        long overflows = 0;
        for (long sync = 0; sync < 5_000; sync++)
        {
            if (sync > 0 && sync % 1024 == 0)
            {
                records.Add(HydraT3(true, 63, 0, 1));
                overflows++;
            }
            if (random.NextDouble() < 0.3) continue;
            var events = new List<(uint Channel, uint Dtime)>();
            for (int n = random.Next(1, 4); n > 0; n--)
            {
                int pulse = random.Next(4);
                // Pulse k of the period is k * 10^6/39 ps after the sync, plus up to 300 ps of jitter, plus a detector delay
                // of up to 400 ns: dtime reaches several sync periods.
                double ps = pulse * 1e6 / 39 + random.Next(300) + random.Next(2) * 400_000;
                events.Add(((uint)random.Next(2), (uint)(ps / 25)));
            }
            foreach (var (channel, dtime) in events.OrderByDescending(e => e.Channel))
            {
                records.Add(HydraT3(false, channel, dtime, (uint)(sync - overflows * 1024)));
                expected.Add((sync, dtime, (ushort)(channel + 1)));
            }
        }
        byte[] file = new PtuFileBuilder(HydraHarpV2T3, syncPeriod, 25e-12, numberOfRecords: records.Count).Records([.. records]).ToArray();

        var tags = ReadAll(file, out var reader, batch: 97, options: new PtuReaderOptions { EmitSyncTagsInT3 = false });

        AssertTimeOrdered(tags);
        // 4/39 MHz is 4 * 10^6/39 ps exactly: each time is one rounding of the exact sum.
        long Exact((BigInteger Syncs, BigInteger Dtime, ushort Channel) e) => (long)((2 * (e.Syncs * 4_000_000 + e.Dtime * 25 * 39) + 39) / (2 * 39));
        Assert.Equal(expected.Select(e => new TimeTag(Exact(e), e.Channel)).OrderBy(t => t.TimePs).ThenBy(t => t.Channel),
            tags.OrderBy(t => t.TimePs).ThenBy(t => t.Channel));
        Assert.Equal(0, reader.TagsNotPlaced);
        Assert.Equal(expected.Count, reader.TagsRead);
    }

    [Fact]
    public void A_record_from_an_earlier_sync_after_later_tags_went_out_is_counted_not_placed()
    {
        byte[] file = new PtuFileBuilder(HydraHarpV2T3, 12.5e-9, 1e-12).Records(
            HydraT3(false, 0, 10, 100),
            HydraT3(false, 0, 10, 200),       // releases sync 100's tags
            HydraT3(false, 1, 10, 50),        // sync 50: earlier than what went out
            HydraT3(false, 0, 20, 200)).ToArray();
        var tags = ReadAll(file, out var reader);
        AssertTimeOrdered(tags);
        Assert.Equal(1, reader.TagsNotPlaced);
        // The sync tag of period 50 and its event: the sync tag too is earlier than what went out.
        Assert.DoesNotContain(tags, t => t.Channel == 2);
        Assert.Equal(5, tags.Count);
        Assert.Equal(5, reader.TagsRead);
    }

    [Fact]
    public void A_full_window_releases_early_and_counts_what_it_then_cannot_place()
    {
        // A window of 3 tags keeps room for a record's two: with two events waiting, the earliest goes out early, and
        // an event read after it but earlier in time is not placed.
        byte[] file = new PtuFileBuilder(HydraHarpV2T3, 12.5e-9, 1e-12).Records(
            HydraT3(false, 0, 30_000, 1),
            HydraT3(false, 0, 20_000, 1),
            HydraT3(false, 0, 10_000, 1)).ToArray();
        var tags = ReadAll(file, out var reader, options: new PtuReaderOptions { EmitSyncTagsInT3 = false, ReorderWindowTags = 3 });
        Assert.Equal([new TimeTag(32_500, 1), new TimeTag(42_500, 1)], tags);
        Assert.Equal(1, reader.TagsNotPlaced);
    }

    [Fact]
    public void A_truncated_t3_file_returns_every_decoded_tag_in_order_then_reports_truncation()
    {
        byte[] file = new PtuFileBuilder(HydraHarpV2T3, 12.5e-9, 1e-12, numberOfRecords: 4).Records(
            HydraT3(false, 0, 30_000, 1), HydraT3(false, 1, 10, 2)).ToArray();
        using var reader = new PtuReader(new MemoryStream(file), "cut.ptu", new PtuReaderOptions { EmitSyncTagsInT3 = false });
        var buffer = new TimeTag[10];
        Assert.Equal(2, reader.Read(buffer, TestContext.Current.CancellationToken));
        Assert.Equal([new TimeTag(25_010, 2), new TimeTag(42_500, 1)], buffer[..2]);
        Assert.Contains("2 of the 4 records", Assert.Throws<TimeTagFileFormatException>(() => reader.Read(buffer, TestContext.Current.CancellationToken)).Message);
    }

    [Fact]
    public void The_sync_rate_is_read_from_the_header()
    {
        byte[] file = new PtuFileBuilder(HydraHarpV2T3, 4 / 39e6, 25e-12, syncRateHz: 39_000_000).ToArray();
        using var reader = new PtuReader(new MemoryStream(file), "rate.ptu");
        Assert.Equal(39_000_000L, reader.Header.SyncRateHz);
        Assert.Equal((4_000_000L, 39L), (reader.GlobalResolution.Numerator, reader.GlobalResolution.Denominator));
    }

    [Fact]
    public void Whole_kilohertz_sync_rates_give_their_exact_period()
    {
        // 1 / (k kHz) = 10^9 / k ps: the reader must recover that fraction from the header's double, not a rounding of it.
        Gen.Int[1, 1_000_000].Sample(k =>
        {
            var unit = RationalPicoseconds.FromSeconds(1.0 / (k * 1000.0));
            var g = BigInteger.GreatestCommonDivisor(1_000_000_000, k);
            Assert.Equal(((long)(1_000_000_000 / g), (long)(k / g)), (unit.Numerator, unit.Denominator));
        });
        Assert.Equal((25L, 1L), (RationalPicoseconds.FromSeconds(25e-12).Numerator, RationalPicoseconds.FromSeconds(25e-12).Denominator));
        Assert.Equal((1L, 1L), (RationalPicoseconds.FromSeconds(1e-12).Numerator, RationalPicoseconds.FromSeconds(1e-12).Denominator));
        Assert.Equal((1L, 5L), (RationalPicoseconds.FromSeconds(0.2e-12).Numerator, RationalPicoseconds.FromSeconds(0.2e-12).Denominator));
    }

    [Fact]
    public void Any_unit_is_a_fraction_within_the_precision_of_the_header_value()
    {
        Gen.Double[1e-13, 1e-3].Sample(seconds =>
        {
            var unit = RationalPicoseconds.FromSeconds(seconds);
            Assert.InRange(unit.Denominator, 1, RationalPicoseconds.MaxDenominator);
            double ps = seconds * 1e12;
            Assert.True(Math.Abs((double)unit.Numerator / unit.Denominator - ps) <= ps * 1e-13, $"{seconds} s -> {unit}");
        });
    }
}
