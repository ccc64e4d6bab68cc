using CsCheck;
using Qkd.Distillation.ErrorCorrection;
using Qkd.Distillation.Messages;
using Qkd.Distillation.Protocol;

namespace Qkd.Distillation.Tests.Messages;

public class ParityAnswersTests
{
    /// <summary>Bob's copy of a round: the same frames and queries, empty answer slots.</summary>
    private static MultiplexedParityRound Asked(int frameCount, Rounds.Group[] groups) =>
        Rounds.Build(frameCount, groups.Select(g => g with { Parities = new byte[g.Queries.Length] }));

    [Fact]
    public void Round_trips_and_refuses_every_truncation()
    {
        Gen.Select(Gen.Long[0, long.MaxValue], Rounds.Generate).Sample((blockId, block) =>
        {
            var (frameCount, groups) = block;
            byte[] message = new ParityAnswers(blockId, Rounds.Build(frameCount, groups)).Write(new ProtocolWriter()).ToArray();

            // Bob's side: the answers land in the slots of the round he asked.
            var asked = Asked(frameCount, groups);
            var back = ParityAnswers.Read(message, asked);
            Assert.Equal(blockId, back.BlockId);
            Assert.Same(asked, back.Round);
            var answered = Rounds.Groups(asked);
            for (int g = 0; g < groups.Length; g++)
                Assert.Equal(groups[g].Parities, answered[g].Parities);

            WireChecks.MalformedIsRejected(message, ParityAnswers.Type, m => ParityAnswers.Read(m, Asked(frameCount, groups)));
        });
    }

    [Fact]
    public void Wire_format_is_pinned()
    {
        // Block 3, 2 groups: frame 1 with 2 parities 1 0 (packed 01), frame 4 with 1 parity 1 (packed 01).
        var round = Rounds.Build(5,
        [
            new(1, [new(0, 0, 128), new(1, 130, 2)], [1, 0]),
            new(4, [new(2, 5, 1)], [1]),
        ]);
        Assert.Equal("080302010201040101", WireChecks.Hex(new ParityAnswers(3, round).Write(new ProtocolWriter())));
    }

    private static readonly Rounds.Group[] TwoFrames =
    [
        new(1, [new(0, 0, 128), new(1, 130, 2)], [0, 0]),
        new(4, [new(2, 5, 1)], [0]),
    ];

    public static TheoryData<string, string> Mismatched => new()
    {
        { "08030101020101", "Block 3: Alice answered 1 frames, 2 asked in this round" },
        { "080302040201010101", "Block 3: answer group 0 is for frame 4, but frame 1 asked there" },
        { "08030201010104" + "0101", "Block 3 frame 1: Alice answered 1 parities to 2 queries" },
        { "080302010301040101", "Field 'parities count' is 3, more than the allowed 2" },
    };

    [Theory]
    [MemberData(nameof(Mismatched))]
    public void Answers_that_do_not_match_the_round_are_refused(string hex, string expected)
    {
        var e = Assert.Throws<ProtocolException>(() => ParityAnswers.Read(Convert.FromHexString(hex), Asked(5, TwoFrames)));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Writer_refuses_a_parity_that_is_not_a_bit()
    {
        var round = Rounds.Build(2, [new(0, [new(0, 0, 1)], [2])]);
        Assert.Throws<ArgumentException>(() => new ParityAnswers(1, round).Write(new ProtocolWriter()));
    }
}
