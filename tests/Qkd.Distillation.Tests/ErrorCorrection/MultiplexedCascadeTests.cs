using CsCheck;
using Qkd.Core.Bits;
using Qkd.Distillation.ErrorCorrection;

namespace Qkd.Distillation.Tests.ErrorCorrection;

public class MultiplexedCascadeTests
{
    /// <summary>A block's frames: Alice's and Bob's bits and the agreed schedule of each.</summary>
    private sealed record Frames(PackedBits[] Alice, PackedBits[] Bob, CascadeSchedule[] Schedules)
    {
        public static Frames Create(int[] lengths, double qber, ulong seed, CascadeOptions? options = null)
        {
            int n = lengths.Length;
            var frames = new Frames(new PackedBits[n], new PackedBits[n], new CascadeSchedule[n]);
            for (int f = 0; f < n; f++)
            {
                var (alice, bob, _) = CascadeTestFrames.NoisyPair(lengths[f], qber, seed + (ulong)f * 7919);
                frames.Alice[f] = alice;
                frames.Bob[f] = bob;
                frames.Schedules[f] = CascadeSchedule.Create(lengths[f], qber, seed * 31 + (ulong)f, options ?? CascadeOptions.Default);
            }
            return frames;
        }

        public CascadeCorrector[] Correctors(PackedBits[] bob) => [.. bob.Select((b, f) => new CascadeCorrector(b, Schedules[f]))];

        public CascadeResponder[] Responders() => [.. Alice.Select((a, f) => new CascadeResponder(a, Schedules[f]))];
    }

    [Fact]
    public void Correcting_frames_together_equals_correcting_them_one_after_the_other()
    {
        var gen = Gen.Select(Gen.Int[500, 6_000].Array[1, 6], Gen.Double[0.002, 0.09], Gen.ULong);
        gen.Sample((lengths, qber, seed) =>
        {
            var frames = Frames.Create(lengths, qber, seed);

            var alone = new CascadeResult[lengths.Length];
            var bobAlone = frames.Bob.Select(b => b.Clone()).ToArray();
            var respondersAlone = frames.Responders();
            for (int f = 0; f < lengths.Length; f++)
                alone[f] = new CascadeCorrector(bobAlone[f], frames.Schedules[f])
                    .RunAsync(new LocalParityOracle(respondersAlone[f])).AsTask().GetAwaiter().GetResult();

            var bobTogether = frames.Bob.Select(b => b.Clone()).ToArray();
            var responders = frames.Responders();
            var oracle = new LocalMultiplexedParityOracle(responders);
            var together = new MultiplexedCascade(frames.Correctors(bobTogether)).RunAsync(oracle).AsTask().GetAwaiter().GetResult();

            for (int f = 0; f < lengths.Length; f++)
            {
                Assert.True(bobAlone[f].ContentEquals(bobTogether[f]), $"frame {f} corrected differently");
                Assert.Equal(alone[f], together.Frames[f]);
                Assert.Equal(respondersAlone[f].ParitiesDisclosed, responders[f].ParitiesDisclosed);
            }
            // Frames move in lockstep: the block costs as many rounds as its slowest frame.
            Assert.Equal(alone.Max(r => r.Rounds), together.Rounds);
            Assert.Equal(together.Rounds, oracle.Rounds);
            Assert.Equal(alone.Sum(r => r.Rounds), together.FrameRounds);
            Assert.Equal(alone.Sum(r => r.LeakedBits), together.LeakedBits);
        }, iter: 40);
    }

    [Fact]
    public async Task A_million_bit_block_in_eight_frames_costs_the_rounds_of_its_slowest_frame()
    {
        var frames = Frames.Create(Enumerable.Repeat(1 << 17, 8).ToArray(), 0.02, 5);
        var bob = frames.Bob.Select(b => b.Clone()).ToArray();
        var oracle = new LocalMultiplexedParityOracle(frames.Responders());
        var result = await new MultiplexedCascade(frames.Correctors(bob)).RunAsync(oracle, TestContext.Current.CancellationToken);

        for (int f = 0; f < bob.Length; f++) Assert.True(frames.Alice[f].ContentEquals(bob[f]));
        Assert.Equal(result.Frames.Max(r => r.Rounds), result.Rounds);
        Assert.True(result.Rounds * 4 < result.FrameRounds, $"{result.Rounds} multiplexed rounds against {result.FrameRounds} one frame after the other");
    }

    [Fact]
    public async Task An_oracle_failure_stops_every_frame_with_that_failure()
    {
        var frames = Frames.Create([3_000, 4_000, 5_000], 0.03, 11);
        var failing = new FailingOracle(new LocalMultiplexedParityOracle(frames.Responders()), failOnRound: 3);
        var e = await Assert.ThrowsAsync<IOException>(async () =>
            await new MultiplexedCascade(frames.Correctors(frames.Bob)).RunAsync(failing, TestContext.Current.CancellationToken));
        Assert.Equal("link down", e.Message);
        Assert.Equal(3, failing.Calls);
    }

    [Fact]
    public async Task A_frame_that_fails_stops_the_block()
    {
        var frames = Frames.Create([3_000, 4_000], 0.03, 12);
        // Answers of 2 are not parities: each corrector refuses them, and the first refusal ends the run.
        await Assert.ThrowsAsync<InvalidDataException>(async () =>
            await new MultiplexedCascade(frames.Correctors(frames.Bob)).RunAsync(new ConstantOracle(2), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Cancellation_stops_the_block()
    {
        var frames = Frames.Create([3_000, 4_000], 0.03, 13);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            await new MultiplexedCascade(frames.Correctors(frames.Bob)).RunAsync(new LocalMultiplexedParityOracle(frames.Responders()), cancelled.Token));
    }

    [Fact]
    public async Task Frames_resumed_on_other_threads_still_meet_at_the_barrier()
    {
        // An oracle that completes asynchronously (as a socket does) resumes the driver on the thread pool.
        var frames = Frames.Create([2_000, 9_000, 4_000, 7_000], 0.04, 14);
        var bob = frames.Bob.Select(b => b.Clone()).ToArray();
        var oracle = new YieldingOracle(new LocalMultiplexedParityOracle(frames.Responders()));
        var result = await new MultiplexedCascade(frames.Correctors(bob)).RunAsync(oracle, TestContext.Current.CancellationToken);
        for (int f = 0; f < bob.Length; f++) Assert.True(frames.Alice[f].ContentEquals(bob[f]));
        Assert.Equal(result.Frames.Max(r => r.Rounds), result.Rounds);
    }

    [Fact]
    public async Task A_multiplexer_runs_only_once()
    {
        var frames = Frames.Create([1_000], 0.02, 15);
        var cascade = new MultiplexedCascade(frames.Correctors(frames.Bob));
        var oracle = new LocalMultiplexedParityOracle(frames.Responders());
        await cascade.RunAsync(oracle, TestContext.Current.CancellationToken);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await cascade.RunAsync(oracle, TestContext.Current.CancellationToken));
        Assert.Throws<ArgumentException>(() => new MultiplexedCascade([]));
    }

    private sealed class FailingOracle(IMultiplexedParityOracle inner, int failOnRound) : IMultiplexedParityOracle
    {
        public int Calls { get; private set; }

        public async ValueTask AnswerAsync(MultiplexedParityRound round, CancellationToken cancellationToken)
        {
            if (++Calls == failOnRound) throw new IOException("link down");
            await inner.AnswerAsync(round, cancellationToken);
        }
    }

    private sealed class YieldingOracle(IMultiplexedParityOracle inner) : IMultiplexedParityOracle
    {
        public async ValueTask AnswerAsync(MultiplexedParityRound round, CancellationToken cancellationToken)
        {
            await Task.Yield();
            await inner.AnswerAsync(round, cancellationToken);
        }
    }

    private sealed class ConstantOracle(byte value) : IMultiplexedParityOracle
    {
        public ValueTask AnswerAsync(MultiplexedParityRound round, CancellationToken cancellationToken)
        {
            for (int g = 0; g < round.GroupCount; g++) round.Parities(g).Span.Fill(value);
            return ValueTask.CompletedTask;
        }
    }
}
