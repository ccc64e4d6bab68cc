using Qkd.Core.Bits;
using Qkd.Core.Random;

namespace Qkd.Distillation.ErrorCorrection.Ldpc;

/// <summary>
/// The block-level steps of LDPC reconciliation shared by Bob's distiller and the in-process runs of tests and
/// benchmarks: splitting a block into frames and planning them, and decoding every pending frame of a round in
/// parallel (frames are independent; each worker takes a pooled decoder).
/// </summary>
public static class LdpcReconciliation
{
    /// <summary>The plans of a block of <paramref name="keyLength"/> bits split into <paramref name="frameCount"/> frames (<see cref="BlockMath.FrameStart"/>).</summary>
    public static LdpcFramePlan[] PlanFrames(long keyLength, int frameCount, double qber, LdpcOptions options)
    {
        var plans = new LdpcFramePlan[frameCount];
        for (int f = 0; f < frameCount; f++)
        {
            int length = (int)(BlockMath.FrameStart(keyLength, frameCount, f + 1) - BlockMath.FrameStart(keyLength, frameCount, f));
            plans[f] = f > 0 && plans[f - 1].KeyBits == length ? plans[f - 1] : LdpcCodeFamily.Plan(length, qber, options);
        }
        return plans;
    }

    /// <summary>One decoding attempt of every frame not yet decoded; returns the frames still failing, in order.</summary>
    public static List<int> DecodePending(IReadOnlyList<LdpcCorrector> correctors, LdpcOptions options, bool parallel = true)
    {
        var pending = new List<int>();
        for (int f = 0; f < correctors.Count; f++)
            if (!correctors[f].Decoded) pending.Add(f);
        void Decode(int i)
        {
            var corrector = correctors[pending[i]];
            var decoder = LdpcDecoderPool.Rent(corrector.Plan.Code);
            try
            {
                corrector.TryDecode(decoder, options.MaxIterations);
            }
            finally
            {
                LdpcDecoderPool.Return(decoder);
            }
        }
        if (parallel && pending.Count > 1) Parallel.For(0, pending.Count, Decode);
        else for (int i = 0; i < pending.Count; i++) Decode(i);
        pending.RemoveAll(f => correctors[f].Decoded);
        return pending;
    }

    /// <summary>
    /// Both ends in one process, without a channel: Alice's responders answer Bob's correctors directly. Bob's
    /// <paramref name="bob"/> is corrected in place. For tests and benchmarks; the distillers run the same steps over
    /// the classical channel.
    /// </summary>
    public static LdpcReconciliationResult RunLocal(PackedBits alice, PackedBits bob, double qberEstimate, LdpcOptions options, IRandomSource random, bool parallel = true)
    {
        ArgumentNullException.ThrowIfNull(alice);
        ArgumentNullException.ThrowIfNull(bob);
        if (alice.Length != bob.Length) throw new ArgumentException("Alice's and Bob's strings differ in length.");
        int frameCount = LdpcCodeFamily.FrameCount(alice.Length);
        var plans = PlanFrames(alice.Length, frameCount, qberEstimate, options);
        var responders = new LdpcResponder[frameCount];
        var correctors = new LdpcCorrector[frameCount];
        var bobFrames = new PackedBits[frameCount];
        try
        {
            for (int f = 0; f < frameCount; f++)
            {
                long start = BlockMath.FrameStart(alice.Length, frameCount, f);
                var aliceFrame = alice.Slice(start, plans[f].KeyBits);
                responders[f] = new LdpcResponder(aliceFrame, plans[f], random);
                aliceFrame.Clear();
                bobFrames[f] = bob.Slice(start, plans[f].KeyBits);
                correctors[f] = new LdpcCorrector(bobFrames[f], plans[f], qberEstimate);
                correctors[f].SetSyndrome(responders[f].Syndrome);
            }
            int rounds = 1;
            var failing = DecodePending(correctors, options, parallel);
            int failedFirst = failing.Count;
            while (failing.Count > 0)
            {
                rounds++;
                foreach (int f in failing)
                    correctors[f].AddRevealed(responders[f].Reveal(correctors[f].NextRevealCount));
                failing = DecodePending(correctors, options, parallel);
            }
            for (int f = 0; f < frameCount; f++)
                bob.CopyFrom(bobFrames[f], BlockMath.FrameStart(alice.Length, frameCount, f));
            return new LdpcReconciliationResult(frameCount, responders.Sum(r => r.LeakedBits), rounds, failedFirst,
                responders.Sum(r => (long)r.Revealed), correctors.Sum(c => c.Iterations));
        }
        finally
        {
            foreach (var r in responders) r?.Zeroise();
            foreach (var c in correctors) c?.Zeroise();
            foreach (var b in bobFrames) b?.Clear();
        }
    }
}
