using System.Buffers.Binary;
using CsCheck;
using Qkd.Acquisition.Replay;
using Qkd.Core.TimeTags;

namespace Qkd.Acquisition.Tests.Replay;

/// <summary>
/// What the reader says about a damaged recording: every damaged stretch with its kind, place, tags and time, and the
/// time the intact tags really cover, so a replay never passes a cut or holed file off as whole.
/// </summary>
public class TimeTagFileIntegrityTests
{
    private const int PerChunk = 1000;
    private const int Chunks = 10;
    private const long SyncPeriodPs = 1_024_000;
    private static readonly TimeTag[] Tags = LinkLikeStream(PerChunk * Chunks, 5);
    private static readonly byte[] File = TimeTagFileTestData.Write(TimeTagFileTestData.Header(), Tags, PerChunk);
    private static readonly int[] ChunkStarts = FindChunkStarts(File);

    /// <summary>A sync tag every 1.024 µs (channel 0) and Poisson detector clicks at about five per sync period (channels 1-2), in time order.</summary>
    private static TimeTag[] LinkLikeStream(int count, int seed)
    {
        var random = new Random(seed);
        var tags = new TimeTag[count];
        long nextSync = 1_000_000, nextClick = nextSync + 100;
        for (int i = 0; i < count; i++)
        {
            if (nextSync <= nextClick)
            {
                tags[i] = new TimeTag(nextSync, 0);
                nextSync += SyncPeriodPs;
            }
            else
            {
                tags[i] = new TimeTag(nextClick, (ushort)random.Next(1, 3));
                nextClick += 1 + (long)(-Math.Log(1 - random.NextDouble()) * SyncPeriodPs / 5);
            }
        }
        return tags;
    }

    private static int[] FindChunkStarts(byte[] file)
    {
        var starts = new List<int>();
        int position = BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(12));
        while (BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(position)) == 0x4B435454)
        {
            starts.Add(position);
            position += 24 + BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(position + 8)) + 4;
        }
        starts.Add(position); // the trailer
        return starts.ToArray();
    }

    private static (List<TimeTag> Tags, TimeTagFileIntegrity Integrity) Replay(byte[] bytes)
    {
        using var reader = new TimeTagFileReader(new MemoryStream(bytes), "damaged.qtt");
        var tags = TimeTagFileTestData.ReadAll(reader, 333);
        return (tags, reader.Integrity);
    }

    private static long Span(TimeTag[] tags) => tags[^1].TimePs - tags[0].TimePs;

    [Fact]
    public void An_intact_file_says_so_and_covers_its_whole_span()
    {
        var (tags, integrity) = Replay(File);

        Assert.Equal(Tags.Length, tags.Count);
        Assert.True(integrity.IsIntact);
        Assert.True(integrity.ReadToEnd);
        Assert.Empty(integrity.Damage);
        Assert.Equal(0, integrity.TagsLost);
        Assert.True(integrity.TagsLostExact);
        Assert.Equal(Span(Tags), integrity.CoveredPs);
    }

    [Fact]
    public void A_file_cut_in_half_is_truncated_and_covers_only_its_first_half()
    {
        var (tags, integrity) = Replay(File[..(File.Length / 2)]);

        int intactChunks = Array.FindLastIndex(ChunkStarts, s => s + 24 <= File.Length / 2);
        Assert.Equal(intactChunks * PerChunk, tags.Count);
        Assert.False(integrity.IsIntact);
        Assert.True(integrity.IsTruncated);
        Assert.False(integrity.TrailerSeen);
        // The chunk cut mid-write states its tag count in its intact header; the truncation is last.
        Assert.Collection(integrity.Damage,
            cut =>
            {
                Assert.Equal(TimeTagFileDamageKind.CorruptChunks, cut.Kind);
                Assert.Equal(ChunkStarts[intactChunks], cut.ByteOffset);
                Assert.Equal(PerChunk, cut.TagsLost);
                Assert.Equal(Tags[intactChunks * PerChunk - 1].TimePs, cut.FromPs);
                Assert.Null(cut.ToPs);
            },
            end =>
            {
                Assert.Equal(TimeTagFileDamageKind.Truncated, end.Kind);
                Assert.Equal(File.Length / 2, end.ByteOffset);
                Assert.Contains("truncated", end.Describe());
            });
        Assert.Equal(Span(Tags[..(intactChunks * PerChunk)]), integrity.CoveredPs);
        Assert.False(integrity.TagsLostExact);
        Assert.Equal(PerChunk, integrity.TagsLost);
    }

    [Fact]
    public void A_file_cut_at_a_chunk_boundary_is_truncated_with_nothing_corrupt()
    {
        var (tags, integrity) = Replay(File[..ChunkStarts[6]]);

        Assert.Equal(6 * PerChunk, tags.Count);
        var end = Assert.Single(integrity.Damage);
        Assert.Equal(TimeTagFileDamageKind.Truncated, end.Kind);
        Assert.Equal(Tags[6 * PerChunk - 1].TimePs, end.FromPs);
        Assert.Null(integrity.TagsLost);
        Assert.Equal(Span(Tags[..(6 * PerChunk)]), integrity.CoveredPs);
    }

    [Fact]
    public void A_corrupt_chunk_is_placed_in_time_and_its_tags_counted()
    {
        byte[] damaged = (byte[])File.Clone();
        damaged[ChunkStarts[5] + 100] ^= 0x10;

        var (tags, integrity) = Replay(damaged);

        Assert.Equal((Chunks - 1) * PerChunk, tags.Count);
        var hole = Assert.Single(integrity.Damage);
        Assert.Equal(TimeTagFileDamageKind.CorruptChunks, hole.Kind);
        Assert.Equal(ChunkStarts[5], hole.ByteOffset);
        Assert.Equal(1, hole.Chunks);
        Assert.Equal(PerChunk, hole.TagsLost);
        Assert.Contains("payload CRC", hole.Detail);
        long from = Tags[5 * PerChunk - 1].TimePs, to = Tags[6 * PerChunk].TimePs;
        Assert.Equal(from, hole.FromPs);
        Assert.Equal(to, hole.ToPs);
        Assert.Equal(Span(Tags) - (to - from), integrity.CoveredPs);
        Assert.True(integrity.TagsLostExact);
        Assert.Equal(PerChunk, integrity.TagsLost);
    }

    [Fact]
    public void A_chunk_cut_out_cleanly_is_found_by_the_jump_in_time_and_counted_by_the_trailer()
    {
        byte[] holed = [.. File[..ChunkStarts[3]], .. File[ChunkStarts[4]..]];

        var (tags, integrity) = Replay(holed);

        Assert.Equal((Chunks - 1) * PerChunk, tags.Count);
        var gap = Assert.Single(integrity.Damage);
        Assert.Equal(TimeTagFileDamageKind.MissingChunks, gap.Kind);
        Assert.Equal(ChunkStarts[3], gap.ByteOffset);
        long from = Tags[3 * PerChunk - 1].TimePs, to = Tags[4 * PerChunk].TimePs;
        Assert.Equal(from, gap.FromPs);
        Assert.Equal(to, gap.ToPs);
        Assert.Contains("gap", gap.Describe());
        Assert.Equal(PerChunk, integrity.TagsLost);
        Assert.True(integrity.TagsLostExact);
        Assert.Equal(Span(Tags) - (to - from), integrity.CoveredPs);

        // Without the trailer too: the jump in time still shows the hole, and the cut end is named.
        (_, integrity) = Replay(holed[..^20]);
        Assert.Equal([TimeTagFileDamageKind.MissingChunks, TimeTagFileDamageKind.Truncated], integrity.Damage.Select(d => d.Kind));
    }

    [Fact]
    public void Small_chunks_cut_out_cleanly_are_counted_by_the_trailer()
    {
        // 100-tag chunks are too short a hole to tell from a quiet stretch by time; the trailer's counts still show it.
        byte[] file = TimeTagFileTestData.Write(TimeTagFileTestData.Header(), Tags, 100);
        int[] starts = FindChunkStarts(file);
        byte[] holed = [.. file[..starts[20]], .. file[starts[21]..]];

        var (tags, integrity) = Replay(holed);

        Assert.Equal(Tags.Length - 100, tags.Count);
        Assert.False(integrity.IsIntact);
        var missing = Assert.Single(integrity.Damage);
        Assert.Equal(TimeTagFileDamageKind.MissingChunks, missing.Kind);
        Assert.Equal(1, missing.Chunks);
        Assert.Equal(100, missing.TagsLost);
        Assert.Equal(100, integrity.TagsLost);
    }

    [Fact]
    public void A_silence_the_tagger_announced_as_an_overflow_is_not_a_hole_in_the_file()
    {
        // The tagger lost a second of tags and said so (overflow begin, then end with the count): its loss, not the file's.
        var tags = (TimeTag[])Tags.Clone();
        tags[PerChunk - 1] = new TimeTag(tags[PerChunk - 1].TimePs, 0, TimeTagKind.OverflowBegin);
        for (int i = PerChunk; i < tags.Length; i++) tags[i] = new TimeTag(tags[i].TimePs + 1_000_000_000_000, tags[i].Channel, tags[i].Kind, tags[i].MissedEvents);
        tags[PerChunk] = new TimeTag(tags[PerChunk].TimePs, 0, TimeTagKind.OverflowEnd, 123_456);
        byte[] file = TimeTagFileTestData.Write(TimeTagFileTestData.Header(), tags, PerChunk);

        var (_, integrity) = Replay(file);

        Assert.True(integrity.IsIntact);
        Assert.Equal(Span(tags), integrity.CoveredPs);
    }

    [Fact]
    public void Any_cut_of_a_recording_is_reported_truncated_and_replays_a_prefix()
    {
        int header = ChunkStarts[0];
        Gen.Int[header, File.Length - 1].Sample(length =>
        {
            var (tags, integrity) = Replay(File[..length]);
            Assert.False(integrity.IsIntact);
            Assert.True(integrity.IsTruncated);
            Assert.Equal(tags.Count, integrity.TagsRead);
            Assert.Equal(Tags[..tags.Count], tags);
            Assert.Equal(tags.Count < 2 ? 0 : Span(tags.ToArray()), integrity.CoveredPs);
        }, iter: 200);
    }

    [Fact]
    public void Check_reads_the_whole_file_without_keeping_tags()
    {
        string path = Path.Combine(Path.GetTempPath(), $"qkd-integrity-{Guid.NewGuid():N}.qtt");
        try
        {
            System.IO.File.WriteAllBytes(path, File[..ChunkStarts[7]]);
            var integrity = TimeTagFileReader.Check(path, TestContext.Current.CancellationToken);
            Assert.True(integrity.ReadToEnd);
            Assert.True(integrity.IsTruncated);
            Assert.Equal(7 * PerChunk, integrity.TagsRead);
        }
        finally
        {
            System.IO.File.Delete(path);
        }
    }

    [Fact]
    public void An_abandoned_recording_has_no_trailer_and_reads_as_cut_off()
    {
        var stream = new MemoryStream();
        var writer = new TimeTagFileWriter(stream, TimeTagFileTestData.Header(), PerChunk, leaveOpen: true);
        writer.Write(Tags.AsSpan(0, 2500));
        writer.Abandon();
        writer.Dispose();

        var (tags, integrity) = Replay(stream.ToArray());

        Assert.Equal(2500, tags.Count);
        Assert.True(integrity.IsTruncated);
        Assert.Equal(TimeTagFileDamageKind.Truncated, Assert.Single(integrity.Damage).Kind);
    }
}
