namespace Qkd.Calibration;

/// <summary>
/// Afterpulsing read off a detector's click-to-next-click histogram. After the dead time D, the next click is either
/// a primary (light or dark, a Poisson process of rate r arriving while the detector is live) or an afterpulse of the
/// previous click (with probability p, a delay s = t - D of density exp(-s/tau)/tau, and only if no primary came
/// first: a new avalanche flushes the trapped carriers). The histogram is then
/// <code>
///   N [ r e^{-rs} (1 - p F(s)) + p f(s) e^{-rs} ]  =  N (1 - p) r e^{-rs}  +  N p (r + 1/tau) e^{-s (r + 1/tau)}
/// </code>
/// a Poisson background plus an excess that is itself exponential with rate r + 1/tau and holds exactly N p counts.
/// So the fit takes the background's amplitude from the tail (well after the afterpulses, with its slope r fixed by
/// the primary rate), subtracts it from D on, and reads p = excess / intervals and, from the excess's mean delay
/// tau_obs (the maximum-likelihood exponential fit over the first six decay constants, truncation allowed for), tau = 1 / (1/tau_obs - r). The tail start follows the fitted
/// decay (fifteen decay constants after D, but no later than four mean primary intervals, where the background
/// still has counts) over a few iterations.
/// </summary>
/// <param name="Probability">p: afterpulses per click (every firing, an afterpulse included, may cause one).</param>
/// <param name="ProbabilityUncertainty">One standard deviation of p (Poisson counts in the excess region and the tail).</param>
/// <param name="DecayPs">tau, ps; NaN when there is no significant excess.</param>
/// <param name="DecayUncertaintyPs">One standard deviation of tau (exponential fit: tau_obs / sqrt(excess)).</param>
/// <param name="ExcessCounts">Afterpulses: counts above the background from the dead time to the tail.</param>
/// <param name="ObservedDecayPs">tau_obs, the excess's own decay constant (afterpulse decay shortened by competing primaries), ps.</param>
/// <param name="BackgroundCountsAtDeadTime">The Poisson background's height at D, counts per bin.</param>
/// <param name="PrimaryRatePerPs">r: rate of primaries reaching a live detector, per ps.</param>
/// <param name="TailStartBin">First bin of the tail the background was fitted on.</param>
public readonly record struct AfterpulseFit(
    double Probability, double ProbabilityUncertainty, double DecayPs, double DecayUncertaintyPs, double ExcessCounts,
    double ObservedDecayPs, double BackgroundCountsAtDeadTime, double PrimaryRatePerPs, int TailStartBin)
{
    private const int Iterations = 4;
    private const double TailDecays = 15;
    private const double BackgroundIntervals = 4;
    private const double DecayFitDecays = 6;

    /// <summary>
    /// The background's and the afterpulses' expected counts in the bin centred on <paramref name="gapPs"/> (the
    /// fitted curve; zero before the dead time).
    /// </summary>
    public double ModelCounts(double gapPs, double deadTimePs, long binWidthPs)
    {
        if (gapPs < deadTimePs - binWidthPs / 2.0) return 0;
        double s = Math.Max(0, gapPs - deadTimePs);
        double model = BackgroundCountsAtDeadTime * Math.Exp(-PrimaryRatePerPs * s);
        if (ExcessCounts > 0 && ObservedDecayPs > 0)
            model += ExcessCounts * binWidthPs / ObservedDecayPs * Math.Exp(-s / ObservedDecayPs);
        return model;
    }

    /// <summary>Fits the histogram from the dead-time edge on.</summary>
    /// <param name="histogram">The channel's intervals.</param>
    /// <param name="deadTime">Its dead time (<see cref="DeadTimeEstimate.Find"/>); not found: no fit (all NaN).</param>
    /// <param name="durationPs">Length of the capture, ps (gives the click rate).</param>
    public static AfterpulseFit Fit(DetectorInterArrivalHistogram histogram, DeadTimeEstimate deadTime, double durationPs)
    {
        ArgumentNullException.ThrowIfNull(histogram);
        if (!(durationPs > 0)) throw new ArgumentOutOfRangeException(nameof(durationPs), durationPs, "The capture must last > 0 ps.");
        if (!deadTime.Found || histogram.Gaps == 0)
            return new AfterpulseFit(double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, -1);

        ReadOnlySpan<long> counts = histogram.Counts;
        int edge = deadTime.EdgeBin;
        double d = deadTime.DeadTimePs;
        long w = histogram.BinWidthPs;
        int bins = counts.Length;
        double clickRate = histogram.Clicks / durationPs;
        // Share of the time the detector is live (non-paralysable dead time): primaries only arrive then.
        double live = Math.Max(0.05, 1 - clickRate * d);
        double rateFromClicks = clickRate / live;
        double r = rateFromClicks;
        // The tail has to hold background counts: at most a few mean primary intervals after the dead time.
        int maxTail = edge + (int)Math.Min((bins - edge) / 2, Math.Ceiling(BackgroundIntervals / (r * w)));
        int tail = maxTail;
        double excess = 0, tauObserved = double.NaN, background = 0, excessVariance = 0, tauNoise = double.NaN;
        for (int iteration = 0; iteration < Iterations; iteration++)
        {
            tail = Math.Clamp(tail, edge + 8, Math.Max(edge + 8, bins - Math.Max(8, (bins - edge) / 5)));
            if (tail >= bins) break;
            // The background's slope: fitted on the tail where it falls visibly within it (bright light), else the
            // rate of primaries (dark counts: flat over the window, so the slope hardly matters).
            double? fittedSlope = TailSlope(histogram, tail) is double f && f * (bins - tail) * w > 2 ? f : null;
            r = fittedSlope ?? rateFromClicks;
            // Poisson maximum likelihood of the amplitude for a known shape: observed over expected in the tail.
            double tailCounts = 0, tailShape = 0, tailShapeDelay = 0;
            for (int k = tail; k < bins; k++)
            {
                double shape = Math.Exp(-r * (histogram.BinCentrePs(k) - d));
                tailCounts += counts[k];
                tailShape += shape;
                tailShapeDelay += shape * (histogram.BinCentrePs(k) - d);
            }
            background = tailShape > 0 ? tailCounts / tailShape : 0;
            // The decay is fitted on the first few decay constants only: further out the excess is gone and the
            // background's noise, weighted by the delay, would dominate the moment.
            int decayEnd = double.IsFinite(tauObserved) ? Math.Min(tail, edge + Math.Max(4, (int)Math.Ceiling(DecayFitDecays * tauObserved / w))) : tail;
            double sum = 0, weighted = 0, regionCounts = 0, regionBackground = 0, decayExcess = 0, decayBackground = 0, regionBackgroundDelay = 0;
            for (int k = edge; k < tail; k++)
            {
                double s = Math.Max(0, histogram.MeanGapPs(k) - d);
                double b = background * Math.Exp(-r * (histogram.BinCentrePs(k) - d));
                double x = counts[k] - b;
                sum += x;
                regionCounts += counts[k];
                regionBackground += b;
                regionBackgroundDelay += b * (histogram.BinCentrePs(k) - d);
                if (k < decayEnd)
                {
                    weighted += x * s;
                    decayExcess += x;
                    decayBackground += b * s * s;
                }
            }
            double decayLength = (decayEnd - edge) * (double)w;
            excess = sum;
            // Counts in the region are Poisson; the background scales with the tail's Poisson total.
            excessVariance = regionCounts + (tailCounts > 0 ? regionBackground * regionBackground / tailCounts : 0);
            if (fittedSlope is not null && tailCounts > 0 && regionBackground > 0)
            {
                // A fitted slope (relative error ~ 1/sqrt(tail counts)) tilts the extrapolation about the tail's
                // mean delay: the background in the region moves by its size times sigma_r times the delay lever.
                double sigmaR = r / Math.Sqrt(tailCounts);
                double lever = tailShapeDelay / tailShape - regionBackgroundDelay / regionBackground;
                excessVariance += Math.Pow(regionBackground * sigmaR * lever, 2);
            }
            if (!(excess > 0)) break;
            // First pass over a long region: the moment is noisy, so start from the 1 - 1/e quantile of the excess
            // (an exponential's decay constant), then refine with the moment over fifteen decay constants.
            tauObserved = iteration == 0 || !(decayExcess > 0 && weighted > 0)
                ? ExcessQuantile(histogram, edge, tail, d, r, background, excess * (1 - 1 / Math.E))
                : 1 / TruncatedExponentialRate(weighted / decayExcess, decayLength);
            tauNoise = decayExcess > 0 ? Math.Sqrt(decayBackground) / decayExcess : double.NaN;
            if (!(tauObserved > 0)) break;
            if (fittedSlope is null) rateFromClicks = Math.Max(0, histogram.Clicks - excess) / durationPs / live;
            tail = Math.Min(maxTail, edge + (int)Math.Ceiling(TailDecays * tauObserved / w));
        }

        double gaps = histogram.Gaps;
        double probability = Math.Max(0, excess) / gaps;
        double probabilitySigma = Math.Sqrt(excessVariance) / gaps;
        // Not significant: an excess below two standard deviations has no decay to fit.
        bool significant = excess > 2 * Math.Sqrt(excessVariance) && tauObserved > 0;
        double tau = double.NaN, tauSigma = double.NaN;
        if (significant && 1 / tauObserved > r)
        {
            tau = 1 / (1 / tauObserved - r);
            // The exponential fit's own spread and the background's noise weighted by the delay.
            double observedSigma = Math.Sqrt(tauObserved * tauObserved / excess + (double.IsFinite(tauNoise) ? tauNoise * tauNoise : 0));
            tauSigma = observedSigma * (tau / tauObserved) * (tau / tauObserved);
        }
        return new AfterpulseFit(probability, probabilitySigma, tau, tauSigma, excess, significant ? tauObserved : double.NaN,
            background, r, tail);
    }
    /// <summary>
    /// Maximum-likelihood slope of an exponential truncated to the tail [tail, end): solves
    /// mean(t - t0) = 1/r - L / (e^{rL} - 1) by bisection; null when the tail is empty or flat.
    /// </summary>
    private static double? TailSlope(DetectorInterArrivalHistogram histogram, int tail)
    {
        ReadOnlySpan<long> counts = histogram.Counts;
        double t0 = histogram.BinCentrePs(tail), n = 0, sum = 0;
        for (int k = tail; k < counts.Length; k++)
        {
            n += counts[k];
            sum += counts[k] * (histogram.BinCentrePs(k) - t0);
        }
        double length = histogram.BinCentrePs(counts.Length - 1) - t0 + histogram.BinWidthPs;
        if (n < 10) return null;
        double mean = sum / n;
        if (mean >= 0.49 * length) return null;
        return TruncatedExponentialRate(mean, length);
    }

    /// <summary>The rate of an exponential truncated to [0, length) with the given mean (bisection on its monotone mean).</summary>
    private static double TruncatedExponentialRate(double mean, double length)
    {
        if (mean >= 0.5 * length) return 1e-6 / length;
        double lo = 1e-6 / length, hi = 1e4 / length;
        for (int i = 0; i < 100; i++)
        {
            double mid = Math.Sqrt(lo * hi);
            double expected = 1 / mid - length / PreciseExpM1(mid * length);
            if (expected > mean) lo = mid; else hi = mid;
        }
        return Math.Sqrt(lo * hi);
    }

    private static double PreciseExpM1(double x) => x < 1e-5 ? x + x * x / 2 : Math.Exp(x) - 1;

    /// <summary>The delay after the dead time at which the cumulative excess first reaches <paramref name="target"/>, ps.</summary>
    private static double ExcessQuantile(DetectorInterArrivalHistogram histogram, int edge, int tail, double d, double r, double background, double target)
    {
        ReadOnlySpan<long> counts = histogram.Counts;
        double cumulative = 0;
        for (int k = edge; k < tail; k++)
        {
            cumulative += counts[k] - background * Math.Exp(-r * (histogram.BinCentrePs(k) - d));
            if (cumulative >= target) return Math.Max(histogram.BinWidthPs / 2.0, histogram.MeanGapPs(k) - d);
        }
        return double.NaN;
    }
}
