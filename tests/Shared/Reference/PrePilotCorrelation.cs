// PRE-CHANGE BASELINE (issue 14, sifting): a verbatim copy of the product code as it was before the sifting rewrite,
// renamed, used only by the benchmarks to time the old code against the new in the same run. Not product code.
using System.Runtime.CompilerServices;
using Qkd.Core;

namespace Qkd.Reference;
using Qkd.Distillation.FrameSync;

/// <summary>
/// Frame synchronisation against a disclosed pilot: which of Alice's pulses Bob's detections belong to, without
/// trusting that the first sync tag arrived or knowing the fibre delay. Bob's clock recovery numbers pulses from the
/// first sync tag it saw, with an assumed path delay; the truth differs by a whole number of pulses (syncs lost at the
/// start, whole pulse periods of unknown delay). For each candidate offset o, Bob's detections at pulses p with
/// p + o in the pilot are compared with Alice's disclosed basis and bit there: under the right offset the detections
/// in Alice's basis carry her bit up to the link's QBER; under any other they are independent of her symbols and
/// disagree half the time.
/// </summary>
/// <remarks>
/// <para>Sequential test per candidate. Walking the candidate's detections in order, with s sifted (same basis) and e
/// errors so far, the candidate is rejected as soon as e − 3s/8 exceeds <see cref="RejectMargin"/>: a wrong offset
/// (error rate ½, the walk drifts up by ⅛ per sifted detection) is rejected after about 70 sifted detections, so a
/// million candidates cost about a hundred million steps; the right one (error rate the QBER Q, the walk drifts down)
/// crosses the margin with probability about exp(−2·(⅜ − Q)·margin/(Q(1 − Q))): ~1e-19 at Q = 11 %, ~2e-4 at the 27 %
/// of an intercept-resend attack on every pulse, which must be synchronised so that parameter estimation can name it.
/// A surviving candidate is accepted when it has at least <see cref="MinimumSifted"/> sifted detections and its errors
/// lie 7.5 standard deviations below half of them (e ≤ s/2 − 3.75·√s: 31 % at 400): a wrong offset passes with
/// probability Φ(−7.5), 3e-14, far below one over the number of candidates.</para>
/// <para>The expected offset (every sync arrived, the delay as told: 0) is walked to the end without pruning, so the
/// right offset is found there even at error rates the pruning cannot follow (an intercept-resend attack on every
/// pulse gives some 40 %): parameter estimation, not frame synchronisation, must be the one to refuse such a link. Its
/// acceptance is the same 7.5-sigma test.</para>
/// <para>Never a guess: exactly one candidate must be accepted. None (no light, too short a pilot, the offset outside
/// the window) or several (a pilot that repeats) is a failure whose message says which.</para>
/// <para>No allocation per detection; the pilot is read directly, one byte per pulse.</para>
/// </remarks>
public static class PrePilotCorrelation
{
    /// <summary>How far e − 3s/8 may climb before a candidate is rejected.</summary>
    public const int RejectMargin = 8;

    /// <summary>Standard deviations (of a fair coin's error count) below s/2 that an accepted candidate's errors must lie.</summary>
    public const double AcceptanceSigmas = 7.5;

    /// <summary>Sifted pilot detections a candidate must survive to be accepted.</summary>
    public const int MinimumSifted = 400;

    /// <summary>
    /// Searches offsets <paramref name="firstCandidate"/> .. <paramref name="lastCandidate"/> (Alice's pulse = Bob's +
    /// offset) for the one under which Bob's detections match the pilot.
    /// </summary>
    /// <param name="detections">Bob's detections, his pulse indices strictly increasing.</param>
    /// <param name="pilot">Alice's pilot pulses 0 .. n − 1: <c>basis | bit &lt;&lt; 1</c> each.</param>
    /// <param name="expectedOffset">The offset if nothing went wrong, walked without pruning (see remarks).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // runs once a session, a hundred million steps: optimised from the start
    public static FrameSyncResult Find(ReadOnlySpan<Detection> detections, ReadOnlySpan<byte> pilot, long firstCandidate, long lastCandidate,
        long expectedOffset = 0)
    {
        if (lastCandidate < firstCandidate)
            throw new ArgumentOutOfRangeException(nameof(lastCandidate), lastCandidate, $"The last candidate lies before the first ({firstCandidate}).");
        long n = pilot.Length;
        long accepted = 0, acceptedOffset = 0, acceptedSifted = 0, acceptedErrors = 0, secondOffset = 0;
        // The best rejected or unfinished candidate, for the failure message: the most sifted at the lowest error rate.
        long bestOffset = firstCandidate, bestSifted = 0, bestErrors = 0;
        double bestRate = double.PositiveInfinity;
        // Each detection's pulse and its basis | bit << 1 side by side: the walk below touches nothing else.
        var pulses = new long[detections.Length];
        var codes = new byte[detections.Length];
        for (int i = 0; i < detections.Length; i++)
        {
            pulses[i] = detections[i].PulseIndex;
            codes[i] = (byte)((int)detections[i].Basis | detections[i].Bit << 1);
        }
        for (long o = firstCandidate; o <= lastCandidate; o++)
        {
            // Bob's pulses p with 0 <= p + o < n.
            int j = LowerBound(detections, -o);
            int stop = LowerBound(detections, n - o);
            long sifted = 0, errors = 0;
            bool rejected = false, prune = o != expectedOffset;
            // Branch-free per detection (basis and bit agree at random under a wrong offset, so branches on them are
            // mispredicted half the time): x = Alice's symbol XOR Bob's code; same basis when bit 0 of x is clear,
            // an error when bit 1 is then set. The walk only moves on sifted detections, so checking it on every
            // detection rejects at exactly the same one as checking it on sifted ones.
            for (; j < stop; j++)
            {
                int x = pilot[(int)(pulses[j] + o)] ^ codes[j];
                int same = ~x & 1;
                sifted += same;
                errors += same & (x >> 1);
                if (prune && 8 * errors - 3 * sifted > 8 * RejectMargin)
                {
                    rejected = true;
                    break;
                }
            }
            if (!rejected && sifted >= MinimumSifted && errors <= sifted / 2.0 - AcceptanceSigmas / 2 * Math.Sqrt(sifted))
            {
                if (accepted++ == 0)
                {
                    acceptedOffset = o;
                    acceptedSifted = sifted;
                    acceptedErrors = errors;
                }
                else if (accepted == 2)
                    secondOffset = o;
                continue;
            }
            if (sifted >= 16)
            {
                double rate = (double)errors / sifted;
                if (rate < bestRate || (rate == bestRate && sifted > bestSifted))
                {
                    bestRate = rate;
                    bestOffset = o;
                    bestSifted = sifted;
                    bestErrors = errors;
                }
            }
        }

        long inWindow = CountInWindow(detections, firstCandidate, lastCandidate, n);
        if (accepted == 1)
            return new FrameSyncResult(acceptedOffset, firstCandidate, lastCandidate, inWindow, acceptedSifted, acceptedErrors, null);
        string window = $"offsets {firstCandidate} .. {lastCandidate} pulses";
        string failure = accepted > 1
            ? $"frame synchronisation is ambiguous: {accepted} of the {window} match the {n}-pulse pilot (the first {acceptedOffset} and {secondOffset}); " +
              "a pilot that repeats cannot tell them apart, and guessing is refused"
            : bestSifted == 0
                ? $"frame synchronisation failed: none of the {inWindow} detections Bob holds falls on a pilot pulse of his basis under any of the {window} " +
                  "(is light arriving, the sync connected, the fibre delay within the search?)"
                : $"frame synchronisation failed: no offset makes Bob's {inWindow} detections match the {n}-pulse pilot (needed: {MinimumSifted} sifted pilot " +
                  $"detections at an error rate {AcceptanceSigmas} standard deviations below 50 %); the best of the {window}, {bestOffset}, has {bestErrors} errors in {bestSifted} " +
                  $"({(double)bestErrors / bestSifted:P1}) (is light arriving, the pilot long enough for this link's detection rate, the fibre delay within the search?)";
        return new FrameSyncResult(null, firstCandidate, lastCandidate, inWindow, accepted > 1 ? acceptedSifted : bestSifted,
            accepted > 1 ? acceptedErrors : bestErrors, failure);
    }

    /// <summary>Index of the first detection at or after <paramref name="pulse"/>.</summary>
    private static int LowerBound(ReadOnlySpan<Detection> detections, long pulse)
    {
        int lo = 0, hi = detections.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (detections[mid].PulseIndex < pulse) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    /// <summary>Detections that fall on the pilot under at least one candidate.</summary>
    private static long CountInWindow(ReadOnlySpan<Detection> detections, long firstCandidate, long lastCandidate, long n) =>
        LowerBound(detections, n - firstCandidate) - LowerBound(detections, -lastCandidate);
}
