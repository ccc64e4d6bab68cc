using CsCheck;
using Qkd.Core.Random;
using Qkd.Distillation.ErrorCorrection.Ldpc;
using Qkd.Reference;

namespace Qkd.Distillation.Tests.ErrorCorrection.Ldpc;

/// <summary>
/// Properties of LDPC reconciliation on random small blocks (CsCheck), and the decoder against the former one
/// (tests/Shared/Reference/ReferenceLayeredDecoder): correctness only, never timing.
/// </summary>
public class LdpcPropertyTests
{
    /// <summary>
    /// Whatever the block length (one or more frames, any circulant), the QBER from 1 % to 8 % and the seeds, Bob ends
    /// with Alice's bits, and the leakage is exactly the sum over frames of checks - punctured + revealed.
    /// </summary>
    [Fact]
    public void Every_block_is_corrected_and_its_leakage_is_checks_less_punctured_plus_revealed()
    {
        Gen.Select(Gen.Int[1_000, 14_000], Gen.Double[0.01, 0.08], Gen.ULong).Sample((bits, qber, seed) =>
        {
            var (alice, bob, _) = LdpcFrames.Noisy(bits, qber, seed);
            int frames = LdpcCodeFamily.FrameCount(bits);
            var plans = LdpcReconciliation.PlanFrames(bits, frames, qber, LdpcOptions.Default);
            var result = LdpcReconciliation.RunLocal(alice, bob, qber, LdpcOptions.Default, new Xoshiro256StarStar(seed ^ 0x5A5A), parallel: false);
            Assert.True(alice.ContentEquals(bob), $"{alice.HammingDistance(bob)} errors left ({bits} bits, QBER {qber}).");
            long syndromeLeak = plans.Sum(p => (long)(p.Code.Checks - p.Punctured));
            Assert.Equal(syndromeLeak + result.RevealedBits, result.LeakedBits);
            Assert.Equal(result.FramesFailedFirstAttempt > 0, result.Rounds > 1);
        }, iter: 12);
    }

    /// <summary>The tanh-product decoder corrects the frames the former phi-sum decoder corrects, to the same word.</summary>
    [Theory]
    [InlineData(0.01)]
    [InlineData(0.02)]
    [InlineData(0.04)]
    [InlineData(0.06)]
    [InlineData(0.08)]
    public void The_decoder_reaches_the_word_the_former_decoder_reaches(double qber)
    {
        const int bits = 23_000;
        var plan = LdpcCodeFamily.Plan(bits, qber, LdpcOptions.Default);
        var decoder = new LayeredDecoder(plan.Code);
        var reference = new ReferenceLayeredDecoder(plan.Code);
        // The table sizes the syndrome for 9 frames in 10: take the first seeded frame the former decoder decodes.
        for (ulong seed = 300; ; seed++)
        {
            Assert.True(seed < 310, "The former decoder decoded none of 10 seeded frames.");
            var (alice, bob, _) = LdpcFrames.Noisy(bits, qber, seed);
            var responder = new LdpcResponder(alice, plan, new Xoshiro256StarStar(seed));
            var syndrome = new byte[plan.Code.Checks];
            for (int i = 0; i < syndrome.Length; i++) syndrome[i] = (byte)responder.Syndrome.GetBit(i);
            float llr = (float)Math.Log((1 - qber) / qber);
            var prior = new float[plan.Code.Length];
            for (int i = plan.Punctured; i < plan.Punctured + plan.Shortened; i++) prior[plan.Code.PositionOrder[i]] = 60f;
            for (int i = 0; i < plan.KeyPositions.Length; i++) prior[plan.KeyPositions[i]] = bob.GetBit(i) == 0 ? llr : -llr;
            prior.CopyTo(reference.Prior);
            if (reference.Decode(syndrome, LdpcOptions.Default.MaxIterations) < 0) continue;
            prior.CopyTo(decoder.Prior);
            Assert.True(decoder.Decode(syndrome, LdpcOptions.Default.MaxIterations) >= 0, $"The decoder failed where the former one decoded (QBER {qber}, seed {seed}).");
            Assert.True(decoder.HardDecision.SequenceEqual(reference.HardDecision));
            for (int i = 0; i < plan.KeyPositions.Length; i++) Assert.Equal(alice.GetBit(i), decoder.HardDecision[plan.KeyPositions[i]]);
            return;
        }
    }
}
