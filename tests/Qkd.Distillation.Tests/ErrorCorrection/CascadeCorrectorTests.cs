using Qkd.Core.Bits;
using Qkd.Distillation.ErrorCorrection;

namespace Qkd.Distillation.Tests.ErrorCorrection;

public class CascadeCorrectorTests
{
    [Fact]
    public void A_frame_of_the_wrong_length_is_rejected()
    {
        var schedule = CascadeSchedule.Create(1_000, 0.02, 1, CascadeOptions.Default);
        var e = Assert.Throws<ArgumentException>(() => new CascadeCorrector(new PackedBits(1_001), schedule));
        Assert.Equal("bobFrame", e.ParamName);
        Assert.Throws<ArgumentNullException>(() => new CascadeCorrector(new PackedBits(1_000), null!));
    }

    [Fact]
    public async Task A_corrector_runs_only_once()
    {
        var (alice, bob, _) = CascadeTestFrames.NoisyPair(2_000, 0.02, 1);
        var schedule = CascadeSchedule.Create(2_000, 0.02, 1, CascadeOptions.Default);
        var corrector = new CascadeCorrector(bob, schedule);
        var oracle = new LocalParityOracle(new CascadeResponder(alice, schedule));
        await corrector.RunAsync(oracle, TestContext.Current.CancellationToken);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await corrector.RunAsync(oracle, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task An_oracle_answering_something_other_than_a_bit_is_rejected()
    {
        var schedule = CascadeSchedule.Create(2_000, 0.02, 1, CascadeOptions.Default);
        var corrector = new CascadeCorrector(CascadeTestFrames.RandomFrame(2_000, 1), schedule);
        await Assert.ThrowsAsync<InvalidDataException>(async () => await corrector.RunAsync(new ConstantOracle(2), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Cancellation_stops_the_run()
    {
        var schedule = CascadeSchedule.Create(2_000, 0.02, 1, CascadeOptions.Default);
        var corrector = new CascadeCorrector(CascadeTestFrames.RandomFrame(2_000, 1), schedule);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await corrector.RunAsync(new ConstantOracle(0), cancelled.Token));
    }

    [Fact]
    public async Task Every_flip_removes_a_disagreement_with_the_frame_that_answers()
    {
        // Cascade trusts the parities it is given: answers from a different frame steer Bob towards that frame.
        // Whatever he ends with, he never makes more corrections than there were disagreements with the answering
        // frame, and verification is what catches the mismatch with the real Alice.
        var (alice, bob, _) = CascadeTestFrames.NoisyPair(20_000, 0.01, 3);
        var impostor = CascadeTestFrames.NoisyPair(20_000, 0.02, 4).Bob;
        long distance = impostor.HammingDistance(bob);
        var (result, _, _) = await CascadeTestFrames.ReconcileAsync(impostor, bob, 0.01, 4);
        Assert.True(result.CorrectedBits <= distance);
        Assert.Equal(distance - result.CorrectedBits, impostor.HammingDistance(bob));
        Assert.False(alice.ContentEquals(bob));
    }

    private sealed class ConstantOracle(byte value) : IParityOracle
    {
        public ValueTask AnswerAsync(ReadOnlyMemory<ParityQuery> queries, Memory<byte> parities, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            parities.Span.Fill(value);
            return ValueTask.CompletedTask;
        }
    }
}
