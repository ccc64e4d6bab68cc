using CsCheck;
using Qkd.Distillation.ErrorCorrection;
using Qkd.Distillation.Messages;
using Qkd.Distillation.Protocol;

namespace Qkd.Distillation.Tests.Messages;

public class ParityQueriesTests
{
    private static ParityQueries Read(byte[] message, int frameCount)
    {
        ParityQuery[] queries = [];
        byte[] parities = [];
        return ParityQueries.Read(message, new MultiplexedParityRound(frameCount), ref queries, ref parities);
    }

    [Fact]
    public void Round_trips_and_refuses_every_truncation()
    {
        Gen.Select(Gen.Long[0, long.MaxValue], Rounds.Generate).Sample((blockId, block) =>
        {
            var (frameCount, groups) = block;
            byte[] message = new ParityQueries(blockId, Rounds.Build(frameCount, groups)).Write(new ProtocolWriter()).ToArray();

            // Alice's side: her reused buffers and a round sized for the block's frames.
            var round = new MultiplexedParityRound(frameCount);
            ParityQuery[] queryBuffer = [];
            byte[] parityBuffer = [];
            var back = ParityQueries.Read(message, round, ref queryBuffer, ref parityBuffer);
            Assert.Equal(blockId, back.BlockId);
            Assert.Same(round, back.Round);
            var read = Rounds.Groups(round);
            Assert.True(Rounds.SameQueries(groups, read));
            // Each group gets one answer slot per query, inside the parity buffer the answers are written from.
            for (int g = 0; g < round.GroupCount; g++)
            {
                Assert.Equal(round.Queries(g).Length, round.Parities(g).Length);
                Assert.True(round.Parities(g).Span.Overlaps(parityBuffer));
            }

            WireChecks.MalformedIsRejected(message, ParityQueries.Type, m => Read(m, frameCount));
        });
    }

    [Fact]
    public void Reading_again_reuses_the_buffers_and_replaces_the_round()
    {
        var writer = new ProtocolWriter();
        var big = Rounds.Build(4, [new(0, [new(0, 0, 8), new(0, 8, 8)], new byte[2]), new(3, [new(1, 2, 3)], new byte[1])]);
        var small = Rounds.Build(4, [new(2, [new(0, 4, 4)], new byte[1])]);
        var round = new MultiplexedParityRound(4);
        ParityQuery[] queries = [];
        byte[] parities = [];
        ParityQueries.Read(new ParityQueries(7, big).Write(writer).ToArray(), round, ref queries, ref parities);
        var queryBuffer = queries;
        ParityQueries.Read(new ParityQueries(7, small).Write(writer).ToArray(), round, ref queries, ref parities);
        Assert.Same(queryBuffer, queries);
        var group = Assert.Single(Rounds.Groups(round));
        Assert.Equal(2, group.Frame);
        Assert.Equal(new[] { new ParityQuery(0, 4, 4) }, group.Queries);
    }

    [Fact]
    public void Wire_format_is_pinned()
    {
        // Block 3, 2 groups. Frame 1: 2 queries, (pass 0, start 0, length 128 = 80 01) and (1, 130 = 82 01, 2).
        // Frame 4: 1 query (2, 5, 1).
        var round = Rounds.Build(5,
        [
            new(1, [new(0, 0, 128), new(1, 130, 2)], new byte[2]),
            new(4, [new(2, 5, 1)], new byte[1]),
        ]);
        Assert.Equal("070302010200008001018201020401020501", WireChecks.Hex(new ParityQueries(3, round).Write(new ProtocolWriter())));
    }

    public static TheoryData<string, string> Malformed => new()
    {
        { "070300", "parity queries for 0 frames; a round names 1 to 8" },
        { "070309" + "0001000001", "parity queries for 9 frames; a round names 1 to 8" },
        { "07030108" + "01000001", "parity queries for frame 8; the block has frames 0..7" },
        { "07030203" + "01000001" + "03" + "01000101", "frame 3 follows frame 3 in one round" },
        { "07030205" + "01000001" + "02" + "01000001", "frame 2 follows frame 5 in one round" },
        { "0703010000", "frame 0 is listed with no parity queries" },
        // pass 2^16 + 1
        { "0703010001" + "818004" + "0001", "Field 'pass' is 65537, more than the allowed 65536" },
        // start 2^31
        { "0703010001" + "00" + "8080808008" + "01", "Field 'start' is 2147483648, more than the allowed 2147483647" },
        // 1000 queries announced where the six bytes left could hold 2
        { "07030100" + "E807" + "000001", "Field 'query count' is 1000, more than the allowed 2" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_rounds_are_refused_with_the_reason(string hex, string expected)
    {
        var e = Assert.Throws<ProtocolException>(() => Read(Convert.FromHexString(hex), 8));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Writer_refuses_rounds_the_reader_would_refuse()
    {
        var writer = new ProtocolWriter();
        Assert.Throws<ArgumentException>(() => new ParityQueries(1, new MultiplexedParityRound(2)).Write(writer));
        Assert.Throws<ArgumentException>(() => new ParityQueries(1, Rounds.Build(2, [new(0, [], [])])).Write(writer));
        Assert.Throws<ArgumentException>(() => new ParityQueries(1, Rounds.Build(2, [new(1, [new(0, 0, 1)], new byte[1]), new(0, [new(0, 0, 1)], new byte[1])])).Write(writer));
        Assert.Throws<ArgumentException>(() => new ParityQueries(1, Rounds.Build(2, [new(0, [new(ParityQueries.MaximumPass + 1, 0, 1)], new byte[1])])).Write(writer));
    }
}
