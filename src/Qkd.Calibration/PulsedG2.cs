namespace Qkd.Calibration;

/// <summary>
/// g2(0) of pulsed light from a time-difference histogram: the coincidences form a comb of peaks one pulse period P
/// apart, and g2(0) is the area of the zero-delay peak over the mean area of the side peaks,
/// <c>g2(0) = A_0 / mean(A_k, k ≠ 0)</c>. Pairs in side peak k come from photons of different pulses, which are
/// independent, so the side peaks are the accidental level whatever the light (dark counts add to every peak alike).
/// Each peak's area is every pair within half a period of its centre, so no shape is assumed and the
/// windows tile the range; a bin cut by a window edge is shared in proportion to its overlap. A difference τ
/// accumulates pairs over T - |τ| of a capture of length T, so each area is scaled by T / (T - |τ_k|).
/// <para>
/// The zero-delay peak is the comb tooth nearest the expected zero delay (0 ps unless the channels' delays are known),
/// located from the data: the comb's phase is the circular mean of every pair's difference modulo P (a flat background
/// adds nothing to it), so detector skew (the HBT peak of a real HydraHarp file at -1.06 ns) moves the windows with it,
/// and an empty central peak (single photons) is found from its side peaks. A skew beyond half a period cannot be told
/// from the comb: the expected zero delay (the difference of the channels' calibrated delays) says which tooth it is.
/// </para>
/// <para>
/// Uncertainty, Poisson: var g2 = max(A_0, 1) / m^2 + g2^2 / S, with m the mean side-peak area and S the side-peak pairs
/// (an empty central peak counts as one pair, not zero). The estimate needs <see cref="MinimumSidePeakPairs"/> side-peak
/// pairs (the level known to 10 %) and at least <see cref="MinimumSidePeaks"/> whole side peaks in the range.
/// </para>
/// </summary>
public sealed record PulsedG2(
    double PulsePeriodPs,
    double ZeroDelayPs,
    double CombContrast,
    double CentralPeakPairs,
    double SidePeakPairs,
    int SidePeaks,
    double G2AtZero,
    double G2Uncertainty,
    IReadOnlyList<PulsedG2.Peak> Peaks)
{
    /// <summary>Side-peak pairs needed: the accidental level then has a relative uncertainty of at most 1/sqrt(100) = 10 %.</summary>
    public const double MinimumSidePeakPairs = 100;

    /// <summary>Whole side peaks the range must hold.</summary>
    public const int MinimumSidePeaks = 2;

    /// <summary>Bins a period must span at least, to locate the comb's phase.</summary>
    public const int MinimumBinsPerPeriod = 4;

    /// <summary>One comb tooth: its index k (0 = zero delay), centre, exposure-corrected pairs and area over the mean side-peak area.</summary>
    public sealed record Peak(int Index, double CentrePs, double Pairs, double Normalised);

    /// <summary>Mean side-peak area, pairs.</summary>
    public double MeanSidePeakPairs => SidePeaks == 0 ? 0 : SidePeakPairs / SidePeaks;

    /// <summary>
    /// Estimates g2(0) over <paramref name="histogram"/> (every pair, <see cref="PairingMode.AllPairs"/>), or says why it
    /// cannot: too few pairs (and how many more are needed), too few whole peaks in the range, bins too wide, no comb.
    /// </summary>
    /// <param name="pulsePeriodPs">P, the light's pulse period on the tagger's clock.</param>
    /// <param name="durationPs">T, the span of the tags the histogram was filled from.</param>
    /// <param name="expectedZeroPs">Where zero delay is expected (stop channel's delay minus start channel's): the zero-delay
    /// peak is the tooth nearest it.</param>
    public static Refusable<PulsedG2> Estimate(TimeDifferenceHistogram histogram, double pulsePeriodPs, double durationPs, double expectedZeroPs = 0)
    {
        ArgumentNullException.ThrowIfNull(histogram);
        if (histogram.Mode != PairingMode.AllPairs)
            throw new ArgumentException("g2 needs every pair (AllPairs); start-stop pairing undercounts long differences.", nameof(histogram));
        if (!(pulsePeriodPs > 0) || !double.IsFinite(pulsePeriodPs))
            throw new ArgumentOutOfRangeException(nameof(pulsePeriodPs), pulsePeriodPs, "The pulse period must be a positive number of ps.");
        double w = histogram.BinWidthPs, min = histogram.MinPs, max = histogram.MaxPs;
        if (pulsePeriodPs < MinimumBinsPerPeriod * w)
            return Refusable<PulsedG2>.Refused($"bins of {w} ps are too wide for a pulse period of {pulsePeriodPs:F0} ps: use bins of at most {Math.Floor(pulsePeriodPs / MinimumBinsPerPeriod)} ps");
        if (!(durationPs > 0))
            return Refusable<PulsedG2>.Refused("the capture has no duration (fewer than two tags)");
        ReadOnlySpan<long> counts = histogram.Counts;

        // The comb's phase: circular mean of the differences modulo P.
        double sumCos = 0, sumSin = 0, total = 0;
        for (int i = 0; i < counts.Length; i++)
        {
            if (counts[i] == 0) continue;
            double angle = 2 * Math.PI * histogram.BinCentrePs(i) / pulsePeriodPs;
            sumCos += counts[i] * Math.Cos(angle);
            sumSin += counts[i] * Math.Sin(angle);
            total += counts[i];
        }
        if (total == 0)
            return Refusable<PulsedG2>.Refused($"no pair between the channels within [{min}, {max}) ps: g2(0) needs at least {MinimumSidePeakPairs} side-peak pairs");
        if (total < MinimumSidePeakPairs)
            return Refusable<PulsedG2>.Refused($"g2(0) needs at least {MinimumSidePeakPairs:F0} side-peak pairs (the accidental level to 10 %); " +
                $"this capture has {total:F0} pairs in all within [{min}, {max}) ps: capture at least {MinimumSidePeakPairs / total:F1} times as much data");
        double contrast = Math.Sqrt(sumCos * sumCos + sumSin * sumSin) / total;
        // Without a comb the resultant of N pairs is a random walk of length ~1/sqrt(N): five times that is a comb.
        if (contrast < 5 / Math.Sqrt(total))
            return Refusable<PulsedG2>.Refused($"no pulse comb at a period of {pulsePeriodPs:F1} ps in {total:N0} pairs (contrast {contrast:F3}): " +
                "the light is not pulsed at that period, or there are too few pairs to see it (measure as continuous light, or capture longer)");
        double phase = Math.Atan2(sumSin, sumCos) / (2 * Math.PI) * pulsePeriodPs; // in (-P/2, P/2]
        double zero = phase + Math.Round((expectedZeroPs - phase) / pulsePeriodPs) * pulsePeriodPs;

        // Whole windows [c_k - P/2, c_k + P/2) inside the range.
        int kLow = (int)Math.Ceiling((min - zero) / pulsePeriodPs + 0.5), kHigh = (int)Math.Floor((max - zero) / pulsePeriodPs - 0.5);
        if (kLow > 0 || kHigh < 0)
            return Refusable<PulsedG2>.Refused($"the range [{min}, {max}) ps does not hold the whole zero-delay peak at {zero:F0} ps: widen it to at least +-{1.5 * pulsePeriodPs:F0} ps");
        int sides = kHigh - kLow;
        if (sides < MinimumSidePeaks)
            return Refusable<PulsedG2>.Refused($"the range [{min}, {max}) ps holds {sides} whole side peak(s) of period {pulsePeriodPs:F0} ps; " +
                $"g2(0) needs {MinimumSidePeaks}: widen it to at least +-{(MinimumSidePeaks / 2 + 1) * pulsePeriodPs:F0} ps");

        var peaks = new List<(int K, double Centre, double Raw, double Corrected)>(sides + 1);
        double side = 0, sideRaw = 0, central = 0, centralRaw = 0, centralExposure = 1;
        for (int k = kLow; k <= kHigh; k++)
        {
            double centre = zero + k * pulsePeriodPs;
            double raw = WindowSum(counts, min, w, centre - pulsePeriodPs / 2, centre + pulsePeriodPs / 2);
            if (durationPs <= Math.Abs(centre))
                return Refusable<PulsedG2>.Refused($"the capture ({durationPs:F0} ps) is shorter than the range: capture longer or narrow the range");
            double exposure = durationPs / (durationPs - Math.Abs(centre));
            peaks.Add((k, centre, raw, raw * exposure));
            if (k == 0)
            {
                central = raw * exposure;
                centralRaw = raw;
                centralExposure = exposure;
            }
            else
            {
                side += raw * exposure;
                sideRaw += raw;
            }
        }
        if (sideRaw < MinimumSidePeakPairs)
        {
            string more = sideRaw > 0 ? $"about {MinimumSidePeakPairs / sideRaw:F1} times as much data" : "data with coincidences";
            return Refusable<PulsedG2>.Refused($"g2(0) needs at least {MinimumSidePeakPairs:F0} side-peak pairs (the accidental level to 10 %); " +
                $"this capture has {sideRaw:F0} in {sides} side peaks: capture {more} (or widen the range for more side peaks)");
        }
        double mean = side / sides;
        double g2 = central / mean;
        double variance = Math.Max(centralRaw, 1) * centralExposure * centralExposure / (mean * mean) + g2 * g2 / sideRaw;
        var list = peaks.Select(p => new Peak(p.K, p.Centre, p.Corrected, p.Corrected / mean)).ToList();
        return Refusable<PulsedG2>.Of(new PulsedG2(pulsePeriodPs, zero, contrast, central, side, sides, g2, Math.Sqrt(variance), list));
    }

    /// <summary>Pairs within [lo, hi): whole bins inside, and the overlapping fraction of the bins cut by an edge.</summary>
    private static double WindowSum(ReadOnlySpan<long> counts, double min, double w, double lo, double hi)
    {
        double first = (lo - min) / w, last = (hi - min) / w; // in bins
        int i0 = Math.Max(0, (int)Math.Floor(first)), i1 = Math.Min(counts.Length - 1, (int)Math.Ceiling(last) - 1);
        double sum = 0;
        for (int i = i0; i <= i1; i++)
        {
            double overlap = Math.Min(i + 1, last) - Math.Max(i, first);
            if (overlap > 0) sum += counts[i] * Math.Min(overlap, 1);
        }
        return sum;
    }
}
