using System.Numerics;
using Qkd.Core;
using Qkd.Core.Bits;
using Qkd.Distillation.ParameterEstimation;

namespace Qkd.Distillation;

/// <summary>
/// Computations that Alice and Bob must carry out identically on the same public data, kept in one place so the
/// two ends cannot drift apart.
/// </summary>
internal static class BlockMath
{
    /// <summary>Records per intensity class, one byte each (a block's millions: counted by the vectorised span count).</summary>
    public static long[] CountPerIntensity(ReadOnlySpan<byte> intensities)
    {
        var counts = new long[Intensities.Count];
        // One vectorised pass per class (issue 14: the byte loop ran as on-stack replacement, some 1 % of a replay's CPU).
        long total = 0;
        for (int k = 0; k < counts.Length; k++) total += counts[k] = intensities.Count((byte)k);
        if (total == intensities.Length) return counts;
        // A byte that is no class: fail as the per-record count did, on the index.
        Array.Clear(counts);
        foreach (byte k in intensities) counts[k]++;
        return counts;
    }

    /// <summary>Positions where <paramref name="a"/> and <paramref name="b"/> differ, counted by intensity class.</summary>
    public static long[] ErrorsPerIntensity(PackedBits a, PackedBits b, ReadOnlySpan<byte> intensities)
    {
        if (a.Length != b.Length || a.Length != intensities.Length)
            throw new ArgumentException("Bit strings and intensity list differ in length.");
        var errors = new long[Intensities.Count];
        var wa = a.Words;
        var wb = b.Words;
        for (int w = 0; w < wa.Length; w++)
        {
            ulong diff = wa[w] ^ wb[w];
            while (diff != 0)
            {
                int bit = BitOperations.TrailingZeroCount(diff);
                errors[intensities[(w << 6) + bit]]++;
                diff &= diff - 1;
            }
        }
        return errors;
    }

    /// <summary>Error-correction frames of a block of <paramref name="keyLength"/> bits: about <paramref name="frameSizeBits"/> bits each.</summary>
    public static int FrameCount(long keyLength, int frameSizeBits) =>
        (int)Math.Max(1, (keyLength + frameSizeBits / 2) / frameSizeBits);

    /// <summary>First bit of frame <paramref name="frame"/> (frame <paramref name="frameCount"/> gives the end): frames differ by at most one bit.</summary>
    public static long FrameStart(long keyLength, int frameCount, int frame) => keyLength * frame / frameCount;

    public static DecoyStatistics Statistics(DistillationOptions options, long[] siftedZ, long[] siftedX, long[] errorsX) =>
        new(options.MeanPhotonNumbers, options.IntensityProbabilities, siftedZ, siftedX, errorsX);

    /// <summary>The link's finite-key bounds of a block; <paramref name="errorsZ"/> null before error correction.</summary>
    public static DecoyStateBounds Estimate(DistillationOptions options, long[] siftedZ, long[] siftedX, long[] errorsX, long[]? errorsZ = null) =>
        options.Analysis.Estimate(Statistics(options, siftedZ, siftedX, errorsX), errorsZ, options.Security);

    /// <summary>
    /// The verdict after parameter estimation: null to go on, otherwise the outcome and reason. Both ends compute it.
    /// </summary>
    public static (BlockOutcome Outcome, string Reason)? Verdict(DistillationOptions options, long siftedX, long[] errorsX,
        DecoyStateBounds bounds, long siftedZ)
    {
        double qberX = siftedX == 0 ? 1.0 : (double)errorsX.Sum() / siftedX;
        if (siftedX == 0)
            return (BlockOutcome.Aborted, "no X-basis detections in the block, so the phase error cannot be estimated");
        if (qberX > options.AbortQber)
            return (BlockOutcome.Aborted,
                $"X-basis QBER {qberX:P2} exceeds the abort threshold {options.AbortQber:P1}: eavesdropping or a fault on the link");
        if (bounds.Problem is not null)
        {
            // On a full-size block the configured statistics suffice on an honest link, so failing to certify
            // single photons is evidence of an attack (photon-number splitting) or a fault: abort. A short final
            // block may simply lack statistics: discard it without alarm.
            return siftedZ >= options.BlockSizeBits
                ? (BlockOutcome.Aborted, $"decoy-state analysis certifies no secure single-photon events: {bounds.Problem}")
                : (BlockOutcome.NoKey, $"the final block of {siftedZ} bits is too small for the decoy-state bounds: {bounds.Problem}");
        }

        // The cheapest leakage error correction could possibly achieve is the Shannon limit n h2(Q); if even that
        // leaves no key, running Cascade would only disclose parities for nothing.
        double shannonLeak = siftedZ * ErrorCorrection.BinaryEntropy.H2(Math.Clamp(qberX, 1e-9, 0.5));
        int tagBits = Verification.PolynomialHash.BitsPerLane *
            Verification.PolynomialHash.LanesFor(siftedZ, options.Security.EpsilonCorrectness);
        var optimistic = options.Analysis.KeyLength(bounds, (long)shannonLeak, tagBits, options.Security);
        if (optimistic.SecretBits <= 0)
            return (BlockOutcome.NoKey, $"finite-key length is zero even at the Shannon limit of error correction: {optimistic.NoKeyReason}");
        return null;
    }
}
