using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Qkd.Core;

namespace Qkd.Distillation.FrameSync;

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
public static class PilotCorrelation
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
        // Only the detections that fall on the pilot under some candidate: Bob's pulses p with 0 <= p + o < n for an o in
        // the window. Each one's pulse and its basis | bit << 1 side by side: the walk below touches nothing else.
        int from = LowerBound(detections, -lastCandidate), to = LowerBound(detections, n - firstCandidate);
        int held = Math.Max(0, to - from);
        var pulses = new long[held];
        var codes = new byte[held];
        for (int i = 0; i < held; i++)
        {
            var d = detections[from + i];
            pulses[i] = d.PulseIndex;
            codes[i] = (byte)((int)d.Basis | d.Bit << 1);
        }
        var tally = new Tally(firstCandidate);
        if (Avx2.IsSupported && held > 0)
            FindSixteenAtOnce(pulses, codes, pilot, firstCandidate, lastCandidate, expectedOffset, ref tally);
        else
        {
            // The candidate's range [start, stop) of detections on the pilot: both ends only move down as o grows, so they
            // are walked down from one candidate to the next instead of searched for each (a million binary searches).
            int start = LowerBound(pulses, -firstCandidate), stop = LowerBound(pulses, n - firstCandidate);
            for (long o = firstCandidate; o <= lastCandidate; o++)
            {
                while (start > 0 && pulses[start - 1] >= -o) start--;
                while (stop > 0 && pulses[stop - 1] >= n - o) stop--;
                long sifted = 0, errors = 0;
                bool rejected = Walk(pulses, codes, pilot, o, start, stop, o != expectedOffset, ref sifted, ref errors);
                tally.Add(o, sifted, errors, rejected);
            }
        }
        long accepted = tally.Accepted, acceptedOffset = tally.AcceptedOffset, acceptedSifted = tally.AcceptedSifted,
            acceptedErrors = tally.AcceptedErrors, secondOffset = tally.SecondOffset;
        long bestOffset = tally.BestOffset, bestSifted = tally.BestSifted, bestErrors = tally.BestErrors;

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

    /// <summary>
    /// One candidate's sequential test over detections [<paramref name="from"/>, <paramref name="to"/>), all on the pilot
    /// under offset <paramref name="o"/>, from the counts given; true when it is rejected (the counts then stop there).
    /// </summary>
    private static bool Walk(long[] pulses, byte[] codes, ReadOnlySpan<byte> pilot, long o, int from, int to, bool prune,
        ref long sifted, ref long errors)
    {
        ref byte pilotStart = ref MemoryMarshal.GetReference(pilot);
        long s = sifted, e = errors;
        bool rejected = false;
        // Branch-free per detection (basis and bit agree at random under a wrong offset, so branches on them are
        // mispredicted half the time): x = Alice's symbol XOR Bob's code; same basis when bit 0 of x is clear,
        // an error when bit 1 is then set. The walk only moves on sifted detections, so checking it on every
        // detection rejects at exactly the same one as checking it on sifted ones. Every pulse + o lies in
        // [0, n) by the range, so the pilot is read without a bounds check.
        for (int j = from; j < to; j++)
        {
            int x = Unsafe.Add(ref pilotStart, (nint)(pulses[j] + o)) ^ codes[j];
            int same = ~x & 1;
            s += same;
            e += same & (x >> 1);
            if (prune && 8 * e - 3 * s > 8 * RejectMargin)
            {
                rejected = true;
                break;
            }
        }
        sifted = s;
        errors = e;
        return rejected;
    }

    /// <summary>Pilot bytes read outside the pilot by the 16-lane walk: never the same basis as Bob's code.</summary>
    private const byte OffPilot = 0x80;

    /// <summary>Detections the 16-lane walk takes at most before its survivors go on one by one (keeps its counts in 16 bits).</summary>
    private const int LaneSteps = 6000;

    /// <summary>
    /// The same tests as <see cref="Walk"/>, sixteen consecutive candidates o0 .. o0 + 15 at once in 16-bit lanes: under
    /// them a detection at pulse p meets the pilot at p + o0 .. p + o0 + 15, one 16-byte read of the pilot (padded with
    /// <see cref="OffPilot"/> on both sides, so a lane whose candidate does not put the detection on the pilot sees no
    /// sifted detection there). Each lane keeps the walk w = 8e − 3s and s, frozen from the detection that rejects it,
    /// which is the one the one-by-one walk stops at; the group stops when every pruned lane is rejected (wrong offsets:
    /// after some 130 detections). Lanes still running then, or after <see cref="LaneSteps"/> detections (the right
    /// offset, the unpruned expected one), go on one by one from there with their exact counts.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FindSixteenAtOnce(long[] pulses, byte[] codes, ReadOnlySpan<byte> pilot, long firstCandidate, long lastCandidate,
        long expectedOffset, ref Tally tally)
    {
        const int Lanes = 16;
        long n = pilot.Length;
        var padded = new byte[pilot.Length + 2 * Lanes];
        padded.AsSpan().Fill(OffPilot);
        pilot.CopyTo(padded.AsSpan(Lanes));
        ref byte paddedStart = ref MemoryMarshal.GetArrayDataReference(padded);
        Span<short> w = stackalloc short[Lanes], s = stackalloc short[Lanes], live = stackalloc short[Lanes];
        var laneIndex = Vector256.Create((short)0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        var basisAndOffPilot = Vector256.Create((short)(1 | OffPilot));
        var bitMask = Vector256.Create((short)2);
        var three = Vector256.Create((short)3);
        var margin = Vector256.Create((short)(8 * RejectMargin));
        // The group's range: detections on the pilot under some lane, pulses p with -(o0 + 15) <= p < n - o0; both ends
        // only move down as o0 grows.
        int start = LowerBound(pulses, -(firstCandidate + Lanes - 1)), stop = LowerBound(pulses, n - firstCandidate);
        for (long o0 = firstCandidate; o0 <= lastCandidate; o0 += Lanes)
        {
            while (start > 0 && pulses[start - 1] >= -(o0 + Lanes - 1)) start--;
            while (stop > 0 && pulses[stop - 1] >= n - o0) stop--;
            int lanes = (int)Math.Min(Lanes, lastCandidate - o0 + 1);
            var inWindow = Vector256.LessThan(laneIndex, Vector256.Create((short)lanes));
            var expected = expectedOffset - o0 is >= 0 and < Lanes
                ? Vector256.Equals(laneIndex, Vector256.Create((short)(expectedOffset - o0)))
                : Vector256<short>.Zero;
            var prune = Vector256.AndNot(inWindow, expected);
            var active = inWindow;
            Vector256<short> walk = Vector256<short>.Zero, sifted = Vector256<short>.Zero;
            int j = start, end = (int)Math.Min(stop, (long)start + LaneSteps);
            nint shift = (nint)(o0 + Lanes);
            for (; j < end; j++)
            {
                var symbols = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref paddedStart, (nuint)(pulses[j] + shift)));
                var x = symbols ^ Vector256.Create((short)codes[j]);
                var same = Vector256.Equals(x & basisAndOffPilot, Vector256<short>.Zero) & active;
                // +5 on an error, -3 on a match, on sifted detections only.
                walk += (Avx2.ShiftLeftLogical(x & bitMask, 2) - three) & same;
                sifted -= same;
                active = Vector256.AndNot(active, Vector256.GreaterThan(walk, margin) & prune);
                if ((active & prune) == Vector256<short>.Zero)
                {
                    j++;
                    break;
                }
            }
            walk.CopyTo(w);
            sifted.CopyTo(s);
            active.CopyTo(live);
            for (int k = 0; k < lanes; k++)
            {
                long o = o0 + k;
                long laneSifted = s[k], laneErrors = (w[k] + 3L * s[k]) / 8;
                bool rejected = live[k] == 0;
                if (!rejected && j < stop)
                {
                    int from = Math.Max(j, LowerBound(pulses, -o)), to = LowerBound(pulses, n - o);
                    rejected = Walk(pulses, codes, pilot, o, from, to, o != expectedOffset, ref laneSifted, ref laneErrors);
                }
                tally.Add(o, laneSifted, laneErrors, rejected);
            }
        }
    }

    /// <summary>The candidates' outcomes in offset order: the accepted ones, and the best of the rest for the failure message.</summary>
    private struct Tally(long firstCandidate)
    {
        public long Accepted, AcceptedOffset, AcceptedSifted, AcceptedErrors, SecondOffset;
        // The best rejected or unfinished candidate, for the failure message: the most sifted at the lowest error rate.
        public long BestOffset = firstCandidate, BestSifted, BestErrors;
        private double _bestRate = double.PositiveInfinity;

        public void Add(long o, long sifted, long errors, bool rejected)
        {
            if (!rejected && sifted >= MinimumSifted && errors <= sifted / 2.0 - AcceptanceSigmas / 2 * Math.Sqrt(sifted))
            {
                if (Accepted++ == 0)
                {
                    AcceptedOffset = o;
                    AcceptedSifted = sifted;
                    AcceptedErrors = errors;
                }
                else if (Accepted == 2)
                    SecondOffset = o;
                return;
            }
            if (sifted >= 16)
            {
                double rate = (double)errors / sifted;
                if (rate < _bestRate || (rate == _bestRate && sifted > BestSifted))
                {
                    _bestRate = rate;
                    BestOffset = o;
                    BestSifted = sifted;
                    BestErrors = errors;
                }
            }
        }
    }

    /// <summary>Index of the first pulse at or after <paramref name="pulse"/>.</summary>
    private static int LowerBound(ReadOnlySpan<long> pulses, long pulse)
    {
        int lo = 0, hi = pulses.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (pulses[mid] < pulse) lo = mid + 1;
            else hi = mid;
        }
        return lo;
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
