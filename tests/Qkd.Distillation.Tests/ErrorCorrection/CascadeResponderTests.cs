using CsCheck;
using Qkd.Core.Bits;
using Qkd.Distillation.ErrorCorrection;

namespace Qkd.Distillation.Tests.ErrorCorrection;

public class CascadeResponderTests
{
    [Fact]
    public void Answers_are_the_parities_of_the_permuted_ranges()
    {
        const int length = 9_001;
        var frame = CascadeTestFrames.RandomFrame(length, 3);
        var schedule = CascadeSchedule.Create(length, 0.04, 21, CascadeOptions.Default);
        var responder = new CascadeResponder(frame, schedule);
        Gen.Select(Gen.Int[0, schedule.PassCount - 1], Gen.Int[0, length - 1], Gen.Int[1, length]).Sample((pass, start, size) =>
        {
            int count = Math.Min(size, length - start);
            var permutation = schedule.Permutation(pass);
            int expected = 0;
            for (int i = start; i < start + count; i++) expected ^= frame.GetBit(permutation.ToOriginal(i));
            var answer = new byte[1];
            responder.Answer([new ParityQuery(pass, start, count)], answer);
            return answer[0] == expected;
        }, iter: 200, threads: 1); // one responder, used as one distiller uses it: from one thread (its counter is not atomic)
        Assert.Equal(200, responder.ParitiesDisclosed);
    }

    [Theory]
    [InlineData(5_000)]
    [InlineData(5_001)]
    [InlineData(70_017)]
    public void Half_frame_parities_of_a_final_pass_match_the_permuted_order(int length)
    {
        var frame = CascadeTestFrames.RandomFrame(length, 12);
        var schedule = CascadeSchedule.Create(length, 0.02, 8, CascadeOptions.Default);
        int pass = CascadeOptions.Default.GrowingPassCount;
        int half = schedule.BlockSize(pass);
        var permutation = schedule.Permutation(pass);
        int first = 0, second = 0;
        for (int i = 0; i < length; i++)
        {
            if (i < half) first ^= frame.GetBit(permutation.ToOriginal(i));
            else second ^= frame.GetBit(permutation.ToOriginal(i));
        }
        // Answered from the subset mask first, then (after a query that needs the permuted copy) from the copy.
        var responder = new CascadeResponder(frame, schedule);
        foreach (var extra in new[] { new ParityQuery(pass, 0, half), new ParityQuery(pass, 1, 7) })
        {
            var answers = new byte[3];
            responder.Answer([new ParityQuery(pass, 0, half), new ParityQuery(pass, half, length - half), extra], answers);
            Assert.Equal(first, answers[0]);
            Assert.Equal(second, answers[1]);
        }
    }

    [Fact]
    public void Invalid_queries_are_rejected_before_anything_is_disclosed()
    {
        var schedule = CascadeSchedule.Create(1_000, 0.02, 1, CascadeOptions.Default);
        var responder = new CascadeResponder(CascadeTestFrames.RandomFrame(1_000, 1), schedule);
        var good = new ParityQuery(0, 0, 10);
        foreach (var bad in new[]
        {
            new ParityQuery(-1, 0, 10), new ParityQuery(schedule.PassCount, 0, 10),
            new ParityQuery(0, -1, 10), new ParityQuery(0, 0, 0), new ParityQuery(0, 990, 11), new ParityQuery(0, 5, -3),
        })
        {
            var e = Assert.Throws<ArgumentException>(() => responder.Answer([good, bad], new byte[2]));
            Assert.Equal("queries", e.ParamName);
            Assert.Contains("Query 1", e.Message);
        }
        Assert.Equal(0, responder.ParitiesDisclosed);
        Assert.Equal("parities", Assert.Throws<ArgumentException>(() => responder.Answer([good, good], new byte[1])).ParamName);
    }

    [Fact]
    public void A_frame_of_the_wrong_length_is_rejected()
    {
        var schedule = CascadeSchedule.Create(1_000, 0.02, 1, CascadeOptions.Default);
        var e = Assert.Throws<ArgumentException>(() => new CascadeResponder(new PackedBits(999), schedule));
        Assert.Equal("aliceFrame", e.ParamName);
        Assert.Throws<ArgumentNullException>(() => new CascadeResponder(null!, schedule));
        Assert.Throws<ArgumentNullException>(() => new LocalParityOracle(null!));
    }

    [Fact]
    public void Answers_do_not_change_when_the_caller_reuses_the_frame_buffer()
    {
        var frame = CascadeTestFrames.RandomFrame(2_000, 5);
        var schedule = CascadeSchedule.Create(2_000, 0.02, 1, CascadeOptions.Default);
        var responder = new CascadeResponder(frame, schedule);
        var before = new byte[1];
        responder.Answer([new ParityQuery(1, 0, 2_000)], before);
        frame.Flip(10);
        var after = new byte[1];
        responder.Answer([new ParityQuery(1, 0, 2_000)], after);
        Assert.Equal(before[0], after[0]);
    }
}
