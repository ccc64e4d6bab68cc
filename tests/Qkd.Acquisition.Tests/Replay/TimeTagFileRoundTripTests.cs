using CsCheck;
using Qkd.Acquisition.Replay;
using Qkd.Core.TimeTags;

namespace Qkd.Acquisition.Tests.Replay;

public class TimeTagFileRoundTripTests
{
    /// <summary>Steps between tags: typical detector gaps, huge gaps, and arbitrary (negative, wrapping) jumps.</summary>
    private static readonly Gen<long> Step = Gen.OneOf(Gen.Long[0, 5000], Gen.Long[0, 1L << 50], Gen.Long);

    private static readonly Gen<(long Step, ushort Channel, TimeTagKind Kind, uint Missed)> Record =
        Gen.Select(Step, Gen.OneOf(Gen.UShort[0, 4], Gen.UShort), Gen.Int[0, 3], Gen.OneOf(Gen.Const(0u), Gen.UInt),
            (step, channel, kind, missed) => (step, channel, (TimeTagKind)kind, kind == (int)TimeTagKind.OverflowEnd || missed % 7 == 0 ? missed : 0u));

    [Fact]
    public void Random_streams_round_trip_exactly_at_1_ps()
    {
        Gen.Select(Record.Array[0, 400], Gen.Long, Gen.Int[1, 50], Gen.Int[1, 97]).Sample((records, start, perChunk, batch) =>
        {
            var tags = new TimeTag[records.Length];
            long t = start;
            for (int i = 0; i < records.Length; i++)
            {
                t = unchecked(t + records[i].Step);
                tags[i] = new TimeTag(t, records[i].Channel, records[i].Kind, records[i].Missed);
            }
            AssertRoundTrip(TimeTagFileTestData.Header(), tags, perChunk, batch);
        }, iter: 300);
    }

    [Fact]
    public void Coarser_resolutions_round_trip_exactly()
    {
        Gen.Select(Gen.OneOf(Gen.Const(4u), Gen.Const(1000u), Gen.UInt[2, 100_000]), Gen.Int[0, 300], Gen.ULong, Gen.Int[1, 40]).Sample((resolution, count, seed, perChunk) =>
        {
            var random = new Random((int)seed);
            var tags = new TimeTag[count];
            for (int i = 0; i < count; i++)
            {
                long ticks = random.NextInt64(long.MinValue / resolution, long.MaxValue / resolution);
                tags[i] = new TimeTag(ticks * resolution, (ushort)random.Next(0, 70), (TimeTagKind)random.Next(4), (uint)random.Next(0, 3));
            }
            AssertRoundTrip(TimeTagFileTestData.Header(resolution), tags, perChunk, 64);
        }, iter: 100);
    }

    [Fact]
    public void A_realistic_stream_takes_about_four_bytes_per_tag()
    {
        var tags = TimeTagFileTestData.Stream(100_000, 3);
        byte[] file = TimeTagFileTestData.Write(TimeTagFileTestData.Header(), tags, TimeTagFileWriter.DefaultTagsPerChunk);
        Assert.InRange(file.Length / (double)tags.Length, 3.0, 4.5);
        using var reader = new TimeTagFileReader(new MemoryStream(file), "stream.qtt");
        Assert.Equal(tags, TimeTagFileTestData.ReadAll(reader, 4096));
    }

    [Fact]
    public void The_header_round_trips()
    {
        var header = TimeTagFileTestData.Header(4);
        byte[] file = TimeTagFileTestData.Write(header, [], 16);
        using var reader = new TimeTagFileReader(new MemoryStream(file), "empty.qtt");
        Assert.Equal(header.ResolutionPs, reader.Header.ResolutionPs);
        Assert.Equal(header.CreatedUtc, reader.Header.CreatedUtc);
        Assert.Equal(header.Channels, reader.Header.Channels);
        Assert.Equal(header.Metadata, reader.Header.Metadata);
        Assert.Equal("Jürgen", reader.Header.FindMetadata("operator"));
        Assert.Equal(0, reader.Read(new TimeTag[8], TestContext.Current.CancellationToken));
        Assert.True(reader.TrailerSeen);
        Assert.Equal(0, reader.TrailerTagCount);
    }

    [Fact]
    public void Writer_rejects_timestamps_off_the_resolution_grid_and_unknown_kinds_without_writing_the_batch()
    {
        var stream = new MemoryStream();
        using var writer = new TimeTagFileWriter(stream, TimeTagFileTestData.Header(4), 8, leaveOpen: true);
        var offGrid = Assert.Throws<ArgumentException>(() => writer.Write([new TimeTag(8, 1), new TimeTag(10, 1)]));
        Assert.Contains("Tag 1", offGrid.Message);
        Assert.Throws<ArgumentException>(() => writer.Write([new TimeTag(8, 1, (TimeTagKind)7)]));
        Assert.Equal(0, writer.TagsWritten);
    }

    private static void AssertRoundTrip(TimeTagFileHeader header, TimeTag[] tags, int perChunk, int batch)
    {
        var stream = new MemoryStream();
        using (var writer = new TimeTagFileWriter(stream, header, perChunk, leaveOpen: true))
        {
            // Write in uneven batches so chunk boundaries fall inside batches.
            for (int i = 0; i < tags.Length; i += 13) writer.Write(tags.AsSpan(i, Math.Min(13, tags.Length - i)));
            Assert.Equal(tags.Length, writer.TagsWritten);
        }
        stream.Position = 0;
        using var reader = new TimeTagFileReader(stream, "roundtrip.qtt");
        Assert.Equal(tags, TimeTagFileTestData.ReadAll(reader, batch));
        Assert.Equal(tags.Length, reader.TagsRead);
        Assert.Equal(0, reader.CorruptChunks);
        Assert.Equal((tags.Length + perChunk - 1) / perChunk, reader.ChunksRead);
        Assert.True(reader.TrailerSeen);
        Assert.Equal(tags.Length, reader.TrailerTagCount);
    }
}
