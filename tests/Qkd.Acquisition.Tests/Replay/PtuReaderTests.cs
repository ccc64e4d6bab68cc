using System.Numerics;
using Qkd.Acquisition.Replay;
using Qkd.Core.TimeTags;
using static Qkd.Acquisition.Tests.Replay.PtuFileBuilder;

namespace Qkd.Acquisition.Tests.Replay;

public class PtuReaderTests
{
    private static PtuReader Reader(byte[] file, PtuReaderOptions? options = null) => new(new MemoryStream(file), "lab.ptu", options);

    private static List<TimeTag> Decode(byte[] file, out PtuReader reader, int batch = 1000, PtuReaderOptions? options = null)
    {
        reader = Reader(file, options);
        return TimeTagFileTestData.ReadAll(reader, batch);
    }

    [Fact]
    public void PicoHarp_T2_sync_inputs_overflow_and_markers()
    {
        byte[] file = new PtuFileBuilder(0x00010203, 4e-12, numberOfRecords: 6).Records(
            PicoHarpT2(0, 100),            // sync
            PicoHarpT2(1, 200),            // router input 1
            PicoHarpT2(15, 0),             // overflow: +210698240 ticks
            PicoHarpT2(15, 0x12340002),    // marker 2
            PicoHarpT2(4, 50),
            PicoHarpT2(2, 0x0FFF_FFFF)).ToArray();
        var tags = Decode(file, out var reader);
        Assert.Equal(
        [
            new TimeTag(400, 0), new TimeTag(800, 1),
            new TimeTag((210_698_240L + 50) * 4, 4), new TimeTag((210_698_240L + 0x0FFF_FFFF) * 4, 2),
        ], tags);
        Assert.Equal(PtuRecordFormat.PicoHarpT2, reader.Header.Format);
        Assert.Equal(1, reader.MarkersSkipped);
        Assert.Equal(1, reader.OverflowRecords);
        Assert.Equal(6, reader.RecordsRead);
    }

    [Fact]
    public void PicoHarp_T3_time_is_nsync_times_period_plus_dtime_and_sync_tags_are_emitted()
    {
        byte[] file = new PtuFileBuilder(0x00010303, 12.5e-9, 4e-12, numberOfRecords: 6).Records(
            PicoHarpT3(1, 100, 5),
            PicoHarpT3(2, 10, 5),          // same sync period: no second sync tag
            PicoHarpT3(15, 0, 0),          // overflow: +65536 syncs
            PicoHarpT3(15, 4, 77),         // marker 3
            PicoHarpT3(3, 0, 3),
            PicoHarpT3(4, 4095, 3)).ToArray();
        var tags = Decode(file, out var reader);
        long second = (65_536L + 3) * 12_500;
        Assert.Equal(
        [
            // Input 2's event (dtime 10) precedes input 1's (dtime 100) of the same period: out in time order.
            new TimeTag(62_500, 0), new TimeTag(62_540, 2), new TimeTag(62_900, 1),
            new TimeTag(second, 0), new TimeTag(second, 3), new TimeTag(second + 4095 * 4, 4),
        ], tags);
        Assert.Equal(1, reader.MarkersSkipped);
        Assert.Equal(1, reader.OverflowRecords);
    }

    [Fact]
    public void HydraHarp_v1_T2_overflows_are_one_period_each_whatever_the_time_field()
    {
        byte[] file = new PtuFileBuilder(0x00010204, 1e-12).Records(
            HydraT2(false, 0, 1000),       // input 1
            HydraT2(true, 0, 1500),        // sync
            HydraT2(true, 63, 5),          // overflow: v1 ignores the 5
            HydraT2(true, 2, 9),           // marker
            HydraT2(false, 7, 7)).ToArray();  // input 8
        var tags = Decode(file, out var reader);
        Assert.Equal([new TimeTag(1000, 1), new TimeTag(1500, 0), new TimeTag(33_552_000L + 7, 8)], tags);
        Assert.Equal(1, reader.MarkersSkipped);
    }

    [Theory]
    [InlineData(0x01010204u, "HydraHarp (v2)")]
    [InlineData(0x00010205u, "TimeHarp 260 N")]
    [InlineData(0x00010206u, "TimeHarp 260 P")]
    [InlineData(0x00010207u, "MultiHarp")]
    public void Generic_T2_overflow_records_carry_their_count(uint recordType, string device)
    {
        byte[] file = new PtuFileBuilder(recordType, 5e-12).Records(
            HydraT2(false, 63, 1),         // input 64
            HydraT2(true, 63, 3),          // three overflows
            HydraT2(true, 0, 2),           // sync
            HydraT2(true, 63, 0),          // old firmware: 0 means one
            HydraT2(false, 1, 0x01FF_FFFF)).ToArray();
        var tags = Decode(file, out var reader);
        long period = 1L << 25;
        Assert.Equal([new TimeTag(5, 64), new TimeTag((3 * period + 2) * 5, 0), new TimeTag((4 * period + 0x01FF_FFFF) * 5, 2)], tags);
        Assert.Equal(device, reader.Header.Device);
        Assert.Equal(2, reader.OverflowRecords);
    }

    [Fact]
    public void HydraHarp_v1_T3_adds_one_sync_period_per_overflow()
    {
        byte[] file = new PtuFileBuilder(0x00010304, 25e-9, 1e-12).Records(
            HydraT3(false, 0, 300, 1000),
            HydraT3(true, 63, 0, 17),      // v1: one overflow regardless of nsync
            HydraT3(true, 4, 0, 3),        // marker
            HydraT3(false, 1, 0x7FFF, 2)).ToArray();
        var tags = Decode(file, out var reader);
        long sync2 = (1024L + 2) * 25_000;
        Assert.Equal([new TimeTag(25_000_000, 0), new TimeTag(25_000_300, 1), new TimeTag(sync2, 0), new TimeTag(sync2 + 0x7FFF, 2)], tags);
        Assert.Equal(PtuRecordFormat.HydraHarpV1T3, reader.Header.Format);
    }

    [Theory]
    [InlineData(0x01010304u)]
    [InlineData(0x00010307u)]
    [InlineData(0x01010305u)]
    public void Generic_T3_overflows_carry_their_count_and_times_stay_exact_at_non_integer_sync_periods(uint recordType)
    {
        // 39 MHz: the sync period is 25641.025641... ps, so a float product would drift; the reader must not.
        double period = 1 / 39e6, resolution = 25e-12;
        byte[] file = new PtuFileBuilder(recordType, period, resolution).Records(
            HydraT3(true, 63, 0, 1023),
            HydraT3(true, 63, 0, 1023),
            HydraT3(false, 3, 12_345, 999),
            HydraT3(true, 63, 0, 0),       // counts as one
            HydraT3(false, 0, 1, 0),
            HydraT3(true, 15, 0, 0)).ToArray();
        var tags = Decode(file, out var reader, options: new PtuReaderOptions { SyncChannel = 100, FirstDetectorChannel = 10 });
        // Exactly 10^6/39 ps per sync and 25 ps per dtime bin, rounded once.
        long Ps(BigInteger syncs, BigInteger dtime) => (long)((2 * (syncs * 1_000_000 + dtime * 25 * 39) + 39) / (2 * 39));
        BigInteger sync1 = 2 * 1023 * 1024 + 999, sync2 = (2 * 1023 + 1) * 1024;
        Assert.Equal(
        [
            new TimeTag(Ps(sync1, 0), 100), new TimeTag(Ps(sync1, 12_345), 13),
            new TimeTag(Ps(sync2, 0), 100), new TimeTag(Ps(sync2, 1), 10),
        ], tags);
        Assert.Equal((1_000_000L, 39L), (reader.GlobalResolution.Numerator, reader.GlobalResolution.Denominator));
        Assert.Equal(1, reader.MarkersSkipped);
        Assert.Equal(3, reader.OverflowRecords);
    }

    [Fact]
    public void One_tag_batches_give_the_same_stream_as_large_batches()
    {
        byte[] file = new PtuFileBuilder(0x01010304, 12.5e-9, 1e-12).Records(
            HydraT3(false, 0, 1, 1), HydraT3(false, 1, 2, 2), HydraT3(true, 63, 0, 2), HydraT3(false, 0, 3, 1)).ToArray();
        var large = Decode(file, out _, batch: 1000);
        var single = Decode(file, out _, batch: 1);
        Assert.Equal(6, large.Count);
        Assert.Equal(large, single);
    }

    [Fact]
    public void T3_sync_tags_can_be_switched_off()
    {
        byte[] file = new PtuFileBuilder(0x00010303, 12.5e-9, 4e-12).Records(PicoHarpT3(1, 1, 1), PicoHarpT3(2, 1, 2)).ToArray();
        var tags = Decode(file, out _, options: new PtuReaderOptions { EmitSyncTagsInT3 = false });
        Assert.Equal([new TimeTag(12_504, 1), new TimeTag(25_004, 2)], tags);
    }

    [Fact]
    public void A_file_with_fewer_records_than_announced_returns_what_it_has_then_reports_truncation()
    {
        byte[] file = new PtuFileBuilder(0x00010204, 1e-12, numberOfRecords: 5).Records(HydraT2(false, 0, 1), HydraT2(false, 0, 2), HydraT2(false, 0, 3)).ToArray();
        using var reader = Reader(file);
        var buffer = new TimeTag[10];
        Assert.Equal(3, reader.Read(buffer, TestContext.Current.CancellationToken));
        var e = Assert.Throws<TimeTagFileFormatException>(() => reader.Read(buffer, TestContext.Current.CancellationToken));
        Assert.Contains("3 of the 5 records", e.Message);
        Assert.Contains("lab.ptu", e.Message);
        Assert.Equal(reader.Header.DataOffset + 12, e.Offset);
    }

    [Fact]
    public void A_partial_record_is_reported_as_truncation()
    {
        byte[] file = new PtuFileBuilder(0x00010204, 1e-12).Records(HydraT2(false, 0, 1)).RawBytes(0x01, 0x02).ToArray();
        using var reader = Reader(file);
        Assert.Equal(1, reader.Read(new TimeTag[10], TestContext.Current.CancellationToken));
        Assert.Contains("partial 2-byte record", Assert.Throws<TimeTagFileFormatException>(() => reader.Read(new TimeTag[10], TestContext.Current.CancellationToken)).Message);
    }

    [Fact]
    public void Records_beyond_the_announced_count_are_not_read()
    {
        byte[] file = new PtuFileBuilder(0x00010204, 1e-12, numberOfRecords: 1).Records(HydraT2(false, 0, 1), HydraT2(false, 0, 2)).ToArray();
        Assert.Equal([new TimeTag(1, 1)], Decode(file, out _));
    }

    [Fact]
    public void Impossible_records_are_reported_with_their_offset()
    {
        byte[] file = new PtuFileBuilder(0x00010203, 4e-12).Records(PicoHarpT2(1, 5), PicoHarpT2(9, 5)).ToArray();
        using var reader = Reader(file);
        Assert.Equal(1, reader.Read(new TimeTag[10], TestContext.Current.CancellationToken));
        var e = Assert.Throws<TimeTagFileFormatException>(() => reader.Read(new TimeTag[10], TestContext.Current.CancellationToken));
        Assert.Equal(reader.Header.DataOffset + 4, e.Offset);
        Assert.Contains("channel 9", e.Message);

        file = new PtuFileBuilder(0x01010304, 1e-8, 1e-12).Records(HydraT3(true, 40, 0, 0)).ToArray();
        Assert.Contains("special channel code 40", Assert.Throws<TimeTagFileFormatException>(() => Decode(file, out _)).Message);
    }

    [Fact]
    public void Garbled_or_incomplete_headers_are_clear_errors()
    {
        byte[] good = new PtuFileBuilder(0x00010204, 1e-12).ToArray();
        // Cut inside the tag list: no Header_End.
        Assert.Contains("truncated", Assert.Throws<TimeTagFileFormatException>(() => Reader(good[..200])).Message);
        // An unknown tag type.
        byte[] badType = (byte[])good.Clone();
        badType[16 + 36] = 0x77;
        Assert.Contains("unknown type", Assert.Throws<TimeTagFileFormatException>(() => Reader(badType)).Message);
        // An unsupported record type.
        Assert.Contains("0x00010208", Assert.Throws<TimeTagFileFormatException>(() => Reader(new PtuFileBuilder(0x00010208, 1e-12).ToArray())).Message);
        // T3 without a dtime resolution.
        Assert.Contains("MeasDesc_Resolution", Assert.Throws<TimeTagFileFormatException>(() => Reader(new PtuFileBuilder(0x00010303, 1e-8).ToArray())).Message);
        // Not a PTU file at all.
        Assert.Contains("PQTTTR", Assert.Throws<TimeTagFileFormatException>(() => Reader(new byte[64])).Message);
    }

    [Fact]
    public void Header_entries_are_exposed()
    {
        using var reader = Reader(new PtuFileBuilder(0x00010207, 5e-12, numberOfRecords: 0).ToArray());
        Assert.Equal("1.0.00", reader.Header.Version);
        Assert.Equal(0x00010207u, reader.Header.RecordType);
        Assert.Equal(5e-12, reader.Header.GlobalResolutionSeconds);
        Assert.Equal(1L, reader.Header.Entries["HW_InpChan_Enabled[1]"]);
        Assert.Equal("{6B1F3A50-0000-4000-8000-000000000000}", reader.Header.Entries["File_GUID"]);
        Assert.IsType<DateTime>(reader.Header.Entries["File_CreatingTime"]);
        Assert.Equal(0, reader.Read(new TimeTag[4], TestContext.Current.CancellationToken));
    }

    [Fact]
    public void A_sync_channel_inside_the_detector_range_is_refused()
    {
        byte[] file = new PtuFileBuilder(0x00010204, 1e-12).ToArray();
        Assert.Throws<ArgumentException>(() => Reader(file, new PtuReaderOptions { SyncChannel = 5, FirstDetectorChannel = 1 }));
    }
}
