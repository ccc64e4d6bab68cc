using System.Buffers.Binary;
using CsCheck;
using Qkd.Acquisition.Replay;
using Qkd.Core.TimeTags;

namespace Qkd.Acquisition.Tests.Replay;

public class TimeTagFileCorruptionTests
{
    private const int PerChunk = 100;
    private static readonly TimeTag[] Tags = TimeTagFileTestData.Stream(1000, 11);
    private static readonly byte[] File = TimeTagFileTestData.Write(TimeTagFileTestData.Header(), Tags, PerChunk);

    /// <summary>Start offsets of the 10 chunks and of the trailer, found by walking the documented layout.</summary>
    private static readonly int[] ChunkStarts = FindChunkStarts();

    private static int[] FindChunkStarts()
    {
        var starts = new List<int>();
        int position = BinaryPrimitives.ReadInt32LittleEndian(File.AsSpan(12));
        while (BinaryPrimitives.ReadUInt32LittleEndian(File.AsSpan(position)) == 0x4B435454)
        {
            starts.Add(position);
            position += 24 + BinaryPrimitives.ReadInt32LittleEndian(File.AsSpan(position + 8)) + 4;
        }
        starts.Add(position); // the trailer
        return starts.ToArray();
    }

    private static (List<TimeTag> Tags, TimeTagFileReader Reader) Replay(byte[] bytes)
    {
        var reader = new TimeTagFileReader(new MemoryStream(bytes), "damaged.qtt");
        return (TimeTagFileTestData.ReadAll(reader, 77), reader);
    }

    private static TimeTag[] Without(params int[] chunks) =>
        Tags.Where((_, i) => !chunks.Contains(i / PerChunk)).ToArray();

    [Fact]
    public void Any_single_byte_damage_after_the_header_loses_exactly_the_damaged_chunk_and_counts_it()
    {
        Gen.Select(Gen.Int[ChunkStarts[0], File.Length - 1], Gen.Byte[1, 255]).Sample((offset, xor) =>
        {
            byte[] damaged = (byte[])File.Clone();
            damaged[offset] ^= xor;
            var (tags, reader) = Replay(damaged);
            int chunk = Array.FindLastIndex(ChunkStarts, s => s <= offset);
            bool inTrailer = chunk == ChunkStarts.Length - 1;
            Assert.Equal(inTrailer ? Tags : Without(chunk), tags);
            Assert.Equal(1, reader.CorruptChunks);
            Assert.Equal(inTrailer ? 10 : 9, reader.ChunksRead);
            Assert.Equal(!inTrailer, reader.TrailerSeen);
        }, iter: 400);
    }

    [Fact]
    public void Inserted_and_deleted_bytes_are_resynchronised_past()
    {
        // Garbage between chunks 2 and 3: no chunk lost, one damaged region counted.
        byte[] inserted = [.. File[..ChunkStarts[3]], .. "TTCKgarbage\0\0"u8.ToArray(), .. File[ChunkStarts[3]..]];
        var (tags, reader) = Replay(inserted);
        Assert.Equal(Tags, tags);
        Assert.Equal(1, reader.CorruptChunks);
        Assert.True(reader.TrailerSeen);

        // A byte missing inside chunk 5's payload: chunk 5 is lost, the rest found again.
        int inside = ChunkStarts[5] + 40;
        byte[] deleted = [.. File[..inside], .. File[(inside + 1)..]];
        (tags, reader) = Replay(deleted);
        Assert.Equal(Without(5), tags);
        Assert.Equal(1, reader.CorruptChunks);
        Assert.True(reader.BytesSkipped > 0);
    }

    [Fact]
    public void Two_separately_damaged_chunks_count_twice()
    {
        byte[] damaged = (byte[])File.Clone();
        damaged[ChunkStarts[1] + 30] ^= 0x40;
        damaged[ChunkStarts[7] + 2] ^= 0x01;
        var (tags, reader) = Replay(damaged);
        Assert.Equal(Without(1, 7), tags);
        Assert.Equal(2, reader.CorruptChunks);
    }

    [Fact]
    public void A_recording_cut_off_mid_chunk_keeps_every_complete_chunk_and_counts_the_partial_one()
    {
        var (tags, reader) = Replay(File[..(ChunkStarts[4] + 60)]);
        Assert.Equal(Tags[..(4 * PerChunk)], tags);
        Assert.Equal(1, reader.CorruptChunks);
        Assert.False(reader.TrailerSeen);

        (tags, reader) = Replay(File[..ChunkStarts[4]]);
        Assert.Equal(Tags[..(4 * PerChunk)], tags);
        Assert.Equal(0, reader.CorruptChunks);
        Assert.False(reader.TrailerSeen);
    }

    [Fact]
    public void A_chunk_whose_crcs_match_but_whose_records_do_not_fill_the_payload_is_rejected()
    {
        // Re-seal chunk 0 with a record count one too small: both CRCs valid, the payload has a record left over.
        byte[] forged = (byte[])File.Clone();
        int start = ChunkStarts[0];
        BinaryPrimitives.WriteUInt32LittleEndian(forged.AsSpan(start + 4), PerChunk - 1);
        BinaryPrimitives.WriteUInt32LittleEndian(forged.AsSpan(start + 20), Crc32C.Compute(forged.AsSpan(start, 20)));
        var (tags, reader) = Replay(forged);
        Assert.Equal(Without(0), tags);
        Assert.Equal(1, reader.CorruptChunks);
    }
}
