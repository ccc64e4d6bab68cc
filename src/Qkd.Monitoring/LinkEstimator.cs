using Qkd.Core;

namespace Qkd.Monitoring;

/// <summary>
/// The per-block estimates and their counting errors (formulas and sources in the README). For a phase-randomised
/// weak coherent source the gain of intensity mu is Q_mu = Y0 + 1 - e^(-eta mu) (Lo, Ma, Chen, PRL 94, 230504 (2005);
/// Ma, Qi, Zhao, Lo, PRA 72, 012326 (2005), Eq. 9), so eta = -ln(1 + Y0 - Q_mu) / mu. Y0 comes from the vacuum class:
/// with mu3 = 0 it is Q_3; with a weak "vacuum" mu3 &gt; 0, the line through (mu3, Q3) and (mu1, Q1) at mu = 0,
/// Y0 = max(0, (mu1 Q3 - mu3 Q1) / (mu1 - mu3)).
/// </summary>
public static class LinkEstimator
{
    /// <summary>The largest loss reported, dB (a blocked channel reads this instead of infinity).</summary>
    public const double MaxLossDb = 100;

    private const double LossPerLn = 10 / 2.302585092994046; // dB per neper of transmittance

    public static LinkEstimates Estimate(BlockObservation block)
    {
        ArgumentNullException.ThrowIfNull(block);
        block.Validate();
        var gains = new double?[Intensities.Count];
        for (int k = 0; k < gains.Length; k++) gains[k] = Ratio(block.Detections[k], block.Pulses[k]);
        double? y0 = BackgroundYield(block);
        double? loss = LossDb(block, Intensity.Signal, y0 ?? 0);
        double? decoyLoss = LossDb(block, Intensity.Decoy, y0 ?? 0);
        long? slotsNonZero = block.Slots is > 0 ? block.Slots : null;
        return new LinkEstimates
        {
            BlockId = block.BlockId,
            Time = block.Time,
            Gains = gains,
            BackgroundYield = y0,
            LossDb = loss,
            Transmittance = loss is double l ? Math.Pow(10, -l / 10) : null,
            DecoyLossDb = decoyLoss,
            QberZ = Qber(block.SiftedZ, block.ErrorsZ),
            QberX = Qber(block.SiftedX, block.ErrorsX),
            QberZPerIntensity = PerIntensity(block.SiftedZ, block.ErrorsZ),
            QberXPerIntensity = PerIntensity(block.SiftedX, block.ErrorsX),
            DarkCountRateHz = y0 * block.PulseRateHz,
            OffGateProbability = slotsNonZero is long slots && block.OffGateTags is long off ? (double)off / slots : null,
            OffGateRateHz = slotsNonZero is long s2 && block.OffGateTags is long off2 && block.PulseRateHz is double rate ? off2 * rate / s2 : null,
            DetectorShares = block.ClicksPerDetector is { } clicks && clicks.Sum() > 0 ? clicks.Select(c => (double)c / clicks.Sum()).ToArray() : null,
            InGateShare = block.InGateTags is long inGate && block.OffGateTags is long offGate ? Ratio(inGate, inGate + offGate) : null,
            ArrivalMeanPs = block.ArrivalTags is { } arrivals
                ? Enumerable.Range(0, arrivals.Length).Select(d => LinkMonitor.MeasureArrivalMean(block, d)?.Value).ToArray()
                : null,
            ArrivalSpreadPs = LinkMonitor.MeasureArrivalSpread(block, null)?.Value,
        };
    }

    /// <summary>Y0 from the vacuum class (see the class comment); null without vacuum pulses.</summary>
    public static double? BackgroundYield(BlockObservation block)
    {
        int v = (int)Intensity.Vacuum, s = (int)Intensity.Signal;
        if (block.Pulses[v] <= 0) return null;
        double q3 = (double)block.Detections[v] / block.Pulses[v];
        double mu3 = block.MeanPhotonNumbers[v], mu1 = block.MeanPhotonNumbers[s];
        if (mu3 == 0 || block.Pulses[s] <= 0 || !(mu1 > mu3)) return q3;
        double q1 = (double)block.Detections[s] / block.Pulses[s];
        return Math.Max(0, (mu1 * q3 - mu3 * q1) / (mu1 - mu3));
    }

    /// <summary>Loss in dB from the gain of <paramref name="intensity"/>; null without pulses of it or with mu = 0.</summary>
    public static double? LossDb(BlockObservation block, Intensity intensity, double backgroundYield)
    {
        int k = (int)intensity;
        double mu = block.MeanPhotonNumbers[k];
        if (block.Pulses[k] <= 0 || !(mu > 0)) return null;
        return LossDb((double)block.Detections[k] / block.Pulses[k], mu, backgroundYield);
    }

    /// <summary>-10 log10(eta) with eta = -ln(1 + Y0 - Q) / mu, capped at <see cref="MaxLossDb"/>.</summary>
    public static double LossDb(double gain, double mu, double backgroundYield)
    {
        double eta = Transmittance(gain, mu, backgroundYield);
        return eta <= 0 ? MaxLossDb : Math.Min(MaxLossDb, -10 * Math.Log10(eta));
    }

    public static double Transmittance(double gain, double mu, double backgroundYield)
    {
        double signal = gain - backgroundYield;
        if (!(signal > 0)) return 0;
        return -Math.Log(Math.Max(1e-300, 1 - signal)) / mu;
    }

    /// <summary>
    /// One sigma of <see cref="LossDb(double, double, double)"/> from the binomial counting error of the gain
    /// (sigma_Q^2 = Q (1 - Q) / N), by the delta method: dL/dQ = (10 / ln 10) / (eta mu (1 + Y0 - Q)). Evaluated at
    /// <paramref name="lossDb"/> (the baseline, so a block that lost all its light still has the baseline's sigma).
    /// </summary>
    public static double LossSigmaDb(double lossDb, double mu, double backgroundYield, long pulses)
    {
        if (pulses <= 0 || !(mu > 0)) return double.PositiveInfinity;
        double eta = Math.Pow(10, -Math.Min(lossDb, MaxLossDb) / 10);
        double q = Math.Min(1, backgroundYield + 1 - Math.Exp(-eta * mu));
        double sigmaQ = Math.Sqrt(Math.Max(q * (1 - q), 1.0 / pulses) / pulses);
        return LossPerLn * sigmaQ / (eta * mu * Math.Max(1e-300, 1 + backgroundYield - q));
    }

    private static double? Ratio(long count, long total) => total > 0 ? (double)count / total : null;

    private static double? Qber(long[]? sifted, long[]? errors) =>
        sifted is null || errors is null ? null : Ratio(errors.Sum(), sifted.Sum());

    private static double?[] PerIntensity(long[]? sifted, long[]? errors)
    {
        var result = new double?[Intensities.Count];
        if (sifted is null || errors is null) return result;
        for (int k = 0; k < result.Length; k++) result[k] = Ratio(errors[k], sifted[k]);
        return result;
    }
}
