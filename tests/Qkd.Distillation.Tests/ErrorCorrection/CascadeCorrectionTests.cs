using Qkd.Distillation.ErrorCorrection;

namespace Qkd.Distillation.Tests.ErrorCorrection;

/// <summary>End-to-end Cascade runs: Bob's frame must equal Alice's afterwards, with every disclosed parity counted.</summary>
public class CascadeCorrectionTests(ITestOutputHelper output)
{
    public static TheoryData<int, double> FramesAndQbers()
    {
        var data = new TheoryData<int, double>();
        foreach (double qber in new[] { 0.005, 0.01, 0.02, 0.03, 0.05, 0.08 })
        {
            data.Add(10_000, qber);
            data.Add(100_000, qber);
        }
        // Million-bit frames for a subset, to keep the suite fast.
        data.Add(1_000_000, 0.01);
        data.Add(1_000_000, 0.05);
        data.Add(1_000_000, 0.08);
        return data;
    }

    [Theory]
    [MemberData(nameof(FramesAndQbers))]
    public async Task Corrects_every_error_and_counts_every_disclosed_parity(int length, double qber)
    {
        foreach (ulong seed in length <= 10_000 ? new ulong[] { 1, 2, 3, 4 } : [7])
        {
            var (alice, bob, errors) = CascadeTestFrames.NoisyPair(length, qber, seed * 1000 + (ulong)(qber * 1e4));
            var (result, responder, oracle) = await CascadeTestFrames.ReconcileAsync(alice, bob, qber, seed);

            Assert.True(alice.ContentEquals(bob), $"n = {length}, q = {qber}, seed {seed}: {alice.HammingDistance(bob)} errors left of {errors}");
            Assert.Equal(errors, result.CorrectedBits);
            Assert.Equal(oracle.ParitiesReceived, result.LeakedBits);
            Assert.Equal(responder.ParitiesDisclosed, result.LeakedBits);
            Assert.Equal(oracle.Calls, result.Rounds);
            Assert.True(result.LeakedBits > length * BinaryEntropy.H2((double)errors / length) * 0.9,
                $"leaked {result.LeakedBits} bits, implausibly below the Shannon bound");
        }
    }

    [Fact]
    public async Task Efficiency_at_two_percent_on_a_million_bits_is_close_to_the_Shannon_limit()
    {
        const int length = 1_000_000;
        var (alice, bob, errors) = CascadeTestFrames.NoisyPair(length, 0.02, 2024);
        var (result, responder, oracle) = await CascadeTestFrames.ReconcileAsync(alice, bob, 0.02, 99);

        double actual = (double)errors / length;
        double f = result.Efficiency(actual);
        output.WriteLine($"n = {length}, QBER {actual:P3}: leaked {result.LeakedBits} bits, f = {f:F4}, rounds {result.Rounds}, passes {result.PassesRun}, largest batch {oracle.LargestBatch}");
        Assert.True(alice.ContentEquals(bob));
        Assert.Equal(responder.ParitiesDisclosed, result.LeakedBits);
        Assert.InRange(f, 1.0, 1.15);
    }

    [Theory]
    [InlineData(0.02, 0.03)] // estimate too low: larger blocks than ideal
    [InlineData(0.05, 0.03)] // estimate too high: smaller blocks than ideal
    [InlineData(0.01, 0.02)]
    public async Task A_wrong_qber_estimate_still_corrects_every_error(double estimate, double actual)
    {
        var (alice, bob, errors) = CascadeTestFrames.NoisyPair(50_000, actual, 31);
        var (result, _, _) = await CascadeTestFrames.ReconcileAsync(alice, bob, estimate, 5);
        Assert.True(alice.ContentEquals(bob));
        Assert.Equal(errors, result.CorrectedBits);
    }

    [Theory]
    [InlineData(64)]
    [InlineData(65)]
    [InlineData(100)]
    [InlineData(1_000)]
    [InlineData(4_095)]
    [InlineData(4_096)]
    [InlineData(4_097)]
    [InlineData(10_007)]
    [InlineData(65_599)]
    public async Task Frames_of_any_length_are_corrected(int length)
    {
        for (ulong seed = 1; seed <= 3; seed++)
        {
            var (alice, bob, errors) = CascadeTestFrames.NoisyPair(length, 0.03, seed + (ulong)length);
            var (result, responder, _) = await CascadeTestFrames.ReconcileAsync(alice, bob, 0.03, seed);
            Assert.True(alice.ContentEquals(bob), $"n = {length}, seed {seed}");
            Assert.Equal(errors, result.CorrectedBits);
            Assert.Equal(responder.ParitiesDisclosed, result.LeakedBits);
        }
    }

    [Fact]
    public async Task A_burst_of_adjacent_errors_is_corrected()
    {
        // Errors from a real link can come in bursts; the shuffled first pass spreads them over many blocks.
        var alice = CascadeTestFrames.RandomFrame(20_000, 8);
        var bob = alice.Clone();
        for (int i = 5_000; i < 5_300; i++) bob.Flip(i);
        var (result, _, _) = await CascadeTestFrames.ReconcileAsync(alice, bob, 0.015, 3);
        Assert.True(alice.ContentEquals(bob));
        Assert.Equal(300, result.CorrectedBits);
    }

    [Fact]
    public async Task Without_a_shuffled_first_pass_the_first_blocks_are_consecutive_bits()
    {
        var options = CascadeOptions.Default with { PermuteFirstPass = false, Permutation = CascadePermutationKind.Shuffle };
        var schedule = CascadeSchedule.Create(3_000, 0.02, 1, options);
        for (int i = 0; i < 3_000; i += 97) Assert.Equal(i, schedule.Permutation(0).ToOriginal(i));
        var (alice, bob, errors) = CascadeTestFrames.NoisyPair(3_000, 0.02, 5);
        var (result, _, _) = await CascadeTestFrames.ReconcileAsync(alice, bob, 0.02, 1, options);
        Assert.True(alice.ContentEquals(bob));
        Assert.Equal(errors, result.CorrectedBits);
    }

    [Fact]
    public async Task Identical_frames_disclose_only_block_parities_and_change_nothing()
    {
        var alice = CascadeTestFrames.RandomFrame(30_000, 4);
        var bob = alice.Clone();
        var (result, responder, _) = await CascadeTestFrames.ReconcileAsync(alice, bob, 0.02, 11);
        var schedule = CascadeSchedule.Create(30_000, 0.02, 11, CascadeOptions.Default);

        // Every pass asks its block parities (all but the last after the first pass); no block is ever odd, so
        // nothing else is asked, and the final passes stop after the confirming streak.
        long expected = 0;
        for (int p = 0; p < result.PassesRun; p++) expected += p == 0 ? schedule.BlockCount(p) : schedule.BlockCount(p) - 1;
        Assert.True(alice.ContentEquals(bob));
        Assert.Equal(0, result.CorrectedBits);
        Assert.Equal(expected, result.LeakedBits);
        Assert.Equal(expected, responder.ParitiesDisclosed);
        Assert.Equal(CascadeOptions.Default.GrowingPassCount + CascadeOptions.Default.ConfirmingPassCount, result.PassesRun);
        Assert.Equal(result.PassesRun, result.Rounds);
    }

    [Fact]
    public async Task The_same_seed_gives_the_same_run()
    {
        var (alice, bob1, _) = CascadeTestFrames.NoisyPair(40_000, 0.04, 77);
        var bob2 = CascadeTestFrames.NoisyPair(40_000, 0.04, 77).Bob;
        var (first, _, _) = await CascadeTestFrames.ReconcileAsync(alice, bob1, 0.04, 123);
        var (second, _, _) = await CascadeTestFrames.ReconcileAsync(alice, bob2, 0.04, 123);
        Assert.Equal(first, second);
    }

    [Fact]
    public async Task Every_oracle_batch_belongs_to_valid_passes_and_ranges()
    {
        var (alice, bob, _) = CascadeTestFrames.NoisyPair(12_345, 0.05, 6);
        var schedule = CascadeSchedule.Create(12_345, 0.05, 6, CascadeOptions.Default);
        var checking = new RecordingOracle(new LocalParityOracle(new CascadeResponder(alice, schedule)));
        await new CascadeCorrector(bob, schedule).RunAsync(checking, TestContext.Current.CancellationToken);
        Assert.True(alice.ContentEquals(bob));
        Assert.All(checking.Queries, q =>
        {
            Assert.InRange(q.Pass, 0, schedule.PassCount - 1);
            Assert.True(q.Start >= 0 && q.Length >= 1 && q.Start + q.Length <= 12_345);
        });
        // A parity is never asked twice: every answer is cached and reused.
        Assert.Equal(checking.Queries.Count, checking.Queries.Distinct().Count());
    }

    private sealed class RecordingOracle(IParityOracle inner) : IParityOracle
    {
        public List<ParityQuery> Queries { get; } = [];

        public ValueTask AnswerAsync(ReadOnlyMemory<ParityQuery> queries, Memory<byte> parities, CancellationToken cancellationToken)
        {
            Queries.AddRange(queries.Span);
            return inner.AnswerAsync(queries, parities, cancellationToken);
        }
    }
}
