namespace Qkd.Calibration;

/// <summary>
/// Detection efficiency from a capture with light of known mean photon number mu per pulse and known transmittance T
/// from the source to the detectors. A coherent pulse split among the detectors (shares s_d summing to 1) makes
/// detector d click from light with probability 1 - exp(-eta mu T s_d), independently of its dark counts, so
/// <code>
///   -ln[(1 - p_d) / (1 - p_dark,d)] = eta mu T s_d      and      eta = sum_d -ln[(1 - p_d) / (1 - p_dark,d)] / (mu T)
/// </code>
/// with p_d the probability that detector d fires in a pulse slot where it is live. The split is not needed. p_d
/// counts primaries only (the clicks minus the afterpulses the histogram found) over the live slots (pulses minus the
/// R - 1 slots each firing blinds, R = dead time / period); p_dark,d comes from the light-blocked capture.
/// </summary>
/// <param name="Efficiency">eta: the heads' efficiency (their mean weighted by the light each receives).</param>
/// <param name="EfficiencyUncertainty">One standard deviation from counting statistics (light and dark captures).</param>
/// <param name="LightYieldPerChannel">-ln[(1 - p_d)/(1 - p_dark,d)] per channel: eta mu T s_d.</param>
public sealed record DetectorEfficiencyEstimate(
    double Efficiency, double EfficiencyUncertainty, double MeanPhotonNumber, double Transmittance, long Pulses,
    IReadOnlyList<double> ClickProbabilityPerLiveSlot, IReadOnlyList<double> DarkProbabilityPerSlot, IReadOnlyList<double> LightYieldPerChannel)
{
    /// <param name="light">The channels of the capture with light.</param>
    /// <param name="dark">The same channels with the light blocked (same order), or null to neglect dark counts.</param>
    /// <param name="pulses">Pulse slots the light capture covered.</param>
    /// <param name="pulseRateHz">The source's pulse rate.</param>
    /// <param name="meanPhotonNumber">mu per pulse at the source.</param>
    /// <param name="transmittance">T from the source to the detectors' inputs (10^(-loss dB / 10)).</param>
    /// <exception cref="InsufficientDataException">A channel clicked fewer than <see cref="DataMinimums.EfficiencyClicks"/> times with light.</exception>
    public static DetectorEfficiencyEstimate Estimate(IReadOnlyList<DetectorChannelAnalysis> light, IReadOnlyList<DetectorChannelAnalysis>? dark,
        long pulses, double pulseRateHz, double meanPhotonNumber, double transmittance)
    {
        ArgumentNullException.ThrowIfNull(light);
        if (dark is not null && dark.Count != light.Count)
            throw new ArgumentException($"The dark capture has {dark.Count} channels, the light capture {light.Count}.", nameof(dark));
        ArgumentOutOfRangeException.ThrowIfLessThan(pulses, 1);
        if (!(pulseRateHz > 0)) throw new ArgumentOutOfRangeException(nameof(pulseRateHz), pulseRateHz, "The pulse rate must be > 0 Hz.");
        if (!(meanPhotonNumber > 0) || !double.IsFinite(meanPhotonNumber))
            throw new ArgumentOutOfRangeException(nameof(meanPhotonNumber), meanPhotonNumber, "The mean photon number must be > 0.");
        if (!(transmittance > 0 && transmittance <= 1))
            throw new ArgumentOutOfRangeException(nameof(transmittance), transmittance, "The transmittance must lie in (0, 1].");

        InsufficientDataException.ThrowIfAny(light.Select(c =>
            DataShortfall.Check($"efficiency of channel {c.Channel}", "clicks with light", c.Clicks, DataMinimums.EfficiencyClicks)));
        double periodPs = 1e12 / pulseRateHz;
        var clickProbability = new double[light.Count];
        var darkProbability = new double[light.Count];
        var yields = new double[light.Count];
        double yieldSum = 0, variance = 0;
        for (int i = 0; i < light.Count; i++)
        {
            var channel = light[i];
            if (dark is not null && dark[i].Channel != channel.Channel)
                throw new ArgumentException($"Channel {i} is {channel.Channel} with light and {dark[i].Channel} without.", nameof(dark));
            double deadTime = channel.DeadTime.Found ? channel.DeadTime.DeadTimePs : dark?[i].DeadTime.DeadTimePs ?? double.NaN;
            long blindSlots = double.IsFinite(deadTime) ? Math.Max(0, (long)Math.Round(deadTime / periodPs) - 1) : 0;
            double liveSlots = pulses - (double)channel.Clicks * blindSlots;
            if (liveSlots <= 0)
                throw new ArgumentException($"Channel {channel.Channel}: {channel.Clicks} clicks with {blindSlots} blind slots each exceed the {pulses} pulses; is the pulse count right?");
            double primaries = Math.Max(0, channel.Clicks - channel.AfterpulseCounts);
            double p = primaries / liveSlots;
            double pDark = dark is null ? 0 : Math.Min(0.5, dark[i].PrimaryRateHz / pulseRateHz);
            double y = -Math.Log((1 - p) / (1 - pDark));
            clickProbability[i] = p;
            darkProbability[i] = pDark;
            yields[i] = y;
            yieldSum += y;
            // d(-ln(1-p))/dp = 1/(1-p); Poisson counts on the light and the dark primaries.
            double sigmaP = Math.Sqrt(Math.Max(1, channel.Clicks)) / liveSlots;
            double sigmaDark = dark is null ? 0 : dark[i].PrimaryRateUncertaintyHz / pulseRateHz;
            variance += Math.Pow(sigmaP / (1 - p), 2) + Math.Pow(sigmaDark / (1 - pDark), 2);
        }
        double scale = meanPhotonNumber * transmittance;
        return new DetectorEfficiencyEstimate(yieldSum / scale, Math.Sqrt(variance) / scale, meanPhotonNumber, transmittance, pulses,
            clickProbability, darkProbability, yields);
    }
}
