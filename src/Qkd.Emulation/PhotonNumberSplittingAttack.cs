using Qkd.Core;
using Qkd.Core.Random;

namespace Qkd.Emulation;

/// <summary>
/// The photon-number-splitting attack (Brassard, Lütkenhaus, Mor, Sanders 2000) on the pulses Eve chooses to attack.
/// Eve counts the photons of each pulse without disturbing them: from n &gt;= 2 she keeps one and forwards n - 1 over a
/// lossless channel; single photons she blocks; vacuum stays vacuum. To hide the attack in the signal gain she tunes
/// two knobs (computed here from the profile): the share t of multi-photon pulses she forwards and the share s of
/// single-photon pulses she lets through untouched. When the forwarded multi-photon light alone can match the honest
/// signal gain she blocks every single photon (s = 0) and thins the multi-photon pulses (t &lt;= 1); the decoy-state
/// analysis then finds no single-photon yield. At short distances that is impossible, so she forwards all
/// multi-photon pulses and just enough single photons; if even that falls short (eta close to Bob's own
/// transmittance) she forwards everything she can and the gain drops.
/// </summary>
/// <remarks>
/// Forwarded light is a Fock state: each of its m photons is detected independently with Bob's receiver
/// transmittance eta_B (internal loss times detector efficiency) and routed to detector d with share r_d, so detector
/// inputs are not independent as they are for coherent light. The sampler therefore works with the number j of
/// detected photons: per intensity it tabulates P(j | click) from the forwarded-photon distribution, draws j, routes
/// the j photons one by one, and overlays independent dark counts.
/// </remarks>
internal sealed class PhotonNumberSplittingAttack
{
    private readonly ReceiverOptics _optics;
    private readonly double[]?[] _detectedGivenClickCumulative;
    private readonly double[] _clickProbability;
    private readonly double[][] _routingCumulative;
    private readonly AliasTable? _darkPatterns;
    private readonly double _anyDarkProbability;
    private readonly double _bobProbabilityZ;

    public PhotonNumberSplittingAttack(LinkProfile profile, TransmitterLight light, ReceiverOptics optics)
    {
        _optics = optics;
        _bobProbabilityZ = profile.BobProbabilityZ;
        double receiver = profile.ReceiverTransmittance;
        double darkCount = profile.DarkCountProbabilityPerPulse;
        double noise = RamanScattering.DetectedPhotonsPerGate(profile, light.PulsePeriodPs); // Raman background: independent of Eve's light
        _anyDarkProbability = ClickPatternTable.ClickProbability(optics.DetectorCount, darkCount, noise);
        _darkPatterns = ClickPatternTable.Build(optics, (setting, d) => noise * optics.NoiseShareOf(setting, d), darkCount, includeSettings: false);

        (SingleForwardFraction, MultiForwardFraction) = ChooseForwardFractions(
            light.SignalMeanPhotonNumber, profile.TotalTransmittance, receiver);

        _detectedGivenClickCumulative = new double[]?[Intensities.Count];
        _clickProbability = new double[Intensities.Count];
        foreach (Intensity k in Intensities.All)
        {
            double[] detected = DetectedPhotonDistribution(light.MeanPhotonNumber(k), receiver);
            // A click needs a detected photon, or (with none detected) a dark count somewhere.
            var weights = (double[])detected.Clone();
            weights[0] *= _anyDarkProbability;
            double total = weights.Sum();
            _clickProbability[(int)k] = total;
            if (total > 0) _detectedGivenClickCumulative[(int)k] = Cumulative(weights, total);
        }

        _routingCumulative = new double[2 * 2 * 2][];
        foreach (Basis prepared in (Basis[])[Basis.Z, Basis.X])
            for (int bit = 0; bit < 2; bit++)
                foreach (Basis setting in optics.BasisSettings)
                {
                    var shares = new double[optics.DetectorCount];
                    for (int d = 0; d < shares.Length; d++)
                        shares[d] = optics.ShareOf(prepared, bit, setting, d);
                    _routingCumulative[RoutingIndex(prepared, bit, setting)] = Cumulative(shares, shares.Sum());
                }
    }

    /// <summary>s: share of single-photon pulses Eve forwards untouched.</summary>
    public double SingleForwardFraction { get; }

    /// <summary>t: share of multi-photon pulses whose remaining n - 1 photons Eve forwards.</summary>
    public double MultiForwardFraction { get; }

    /// <summary>P(at least one detector fires | attacked pulse of this intensity).</summary>
    public double ClickProbability(Intensity intensity) => _clickProbability[(int)intensity];

    /// <summary>The click outcome of an attacked pulse, given that it clicks.</summary>
    /// <param name="bobSetting">An active receiver's setting when Bob chose it (null: drawn here).</param>
    public uint SampleClick(Intensity intensity, PulseSymbol symbol, Xoshiro256StarStar random, Basis? bobSetting = null)
    {
        double[] cumulative = _detectedGivenClickCumulative[(int)intensity]
            ?? throw new InvalidOperationException($"Attacked {intensity} pulses cannot click; the sampler must not propose them.");
        double u = random.NextDouble();
        int detected = 0;
        while (u >= cumulative[detected]) detected++;

        Basis setting = Basis.Z;
        if (bobSetting is Basis chosen)
            setting = chosen;
        else if (_optics.IsActive)
            setting = random.NextDouble() < _bobProbabilityZ ? Basis.Z : Basis.X;

        if (detected == 0)
        {
            uint dark = ClickOutcome.Fired(_darkPatterns!.Sample(random.NextUInt64()));
            return ClickOutcome.Encode(dark, dark, setting);
        }

        double[] route = _routingCumulative[RoutingIndex(symbol.Basis, symbol.Bit, setting)];
        uint fired = 0;
        for (int photon = 0; photon < detected; photon++)
        {
            double v = random.NextDouble();
            int d = 0;
            while (v >= route[d]) d++;
            fired |= 1u << d;
        }
        uint darkOnly = 0;
        if (_darkPatterns is not null && random.NextDouble() < _anyDarkProbability)
        {
            uint dark = ClickOutcome.Fired(_darkPatterns.Sample(random.NextUInt64()));
            darkOnly = dark & ~fired;
            fired |= dark;
        }
        return ClickOutcome.Encode(fired, darkOnly, setting);
    }

    /// <summary>
    /// (s, t) such that the light part of the attacked signal gain equals the honest 1 - exp(-eta mu1), when possible.
    /// </summary>
    internal static (double Single, double Multi) ChooseForwardFractions(double signalMean, double eta, double receiver)
    {
        double target = PreciseMath.OneMinusExp(-eta * signalMean);
        double[] photons = PoissonDistribution(signalMean);
        double single = photons.Length > 1 ? photons[1] * receiver : 0;
        double multi = 0;
        for (int n = 2; n < photons.Length; n++)
            multi += photons[n] * (1 - Math.Pow(1 - receiver, n - 1));
        if (multi >= target)
            return (0.0, multi > 0 ? target / multi : 0.0);
        return (single > 0 ? Math.Min(1.0, (target - multi) / single) : 0.0, 1.0);
    }

    /// <summary>P(j photons detected at Bob) for an attacked pulse of mean photon number mu.</summary>
    private double[] DetectedPhotonDistribution(double mu, double receiver)
    {
        double[] sent = PoissonDistribution(mu);
        // Forwarded photon number m: vacuum -> 0; one photon -> 1 with s, else 0; n >= 2 -> n - 1 with t, else 0.
        var forwarded = new double[Math.Max(sent.Length - 1, 2)];
        forwarded[0] += sent[0];
        if (sent.Length > 1)
        {
            forwarded[1] += sent[1] * SingleForwardFraction;
            forwarded[0] += sent[1] * (1 - SingleForwardFraction);
        }
        for (int n = 2; n < sent.Length; n++)
        {
            forwarded[n - 1] += sent[n] * MultiForwardFraction;
            forwarded[0] += sent[n] * (1 - MultiForwardFraction);
        }

        var detected = new double[forwarded.Length];
        if (receiver >= 1.0)
            return forwarded;
        double[] logFactorial = LogFactorials(forwarded.Length);
        double logEta = Math.Log(receiver), logLoss = PreciseMath.Log1P(-receiver);
        for (int m = 0; m < forwarded.Length; m++)
        {
            if (forwarded[m] == 0) continue;
            for (int j = 0; j <= m; j++)
            {
                double logBinomial = logFactorial[m] - logFactorial[j] - logFactorial[m - j]
                    + (j == 0 ? 0 : j * logEta) + (m - j == 0 ? 0 : (m - j) * logLoss);
                detected[j] += forwarded[m] * Math.Exp(logBinomial);
            }
        }
        return detected;
    }

    /// <summary>Poisson probabilities P(n), n = 0.., up to where the terms fall below 1e-20 past the mode.</summary>
    internal static double[] PoissonDistribution(double mu)
    {
        var p = new List<double> { Math.Exp(-mu) };
        double term = p[0];
        for (int n = 1; n < 4096; n++)
        {
            term *= mu / n;
            if (n > mu && term < 1e-20) break;
            p.Add(term);
        }
        return p.ToArray();
    }

    private static double[] LogFactorials(int count)
    {
        var table = new double[count + 1];
        for (int n = 2; n <= count; n++) table[n] = table[n - 1] + Math.Log(n);
        return table;
    }

    private static double[] Cumulative(double[] weights, double total)
    {
        var cumulative = new double[weights.Length];
        double running = 0;
        for (int i = 0; i < weights.Length; i++)
        {
            running += weights[i];
            cumulative[i] = running / total;
        }
        // Guard the scan against rounding: the last outcome with any weight catches everything.
        int last = Array.FindLastIndex(weights, w => w > 0);
        for (int i = last; i < cumulative.Length; i++) cumulative[i] = double.PositiveInfinity;
        return cumulative;
    }

    private static int RoutingIndex(Basis prepared, int bit, Basis setting) => ((int)prepared << 2) | (bit << 1) | (int)setting;
}
