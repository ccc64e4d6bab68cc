using Qkd.Distillation.ErrorCorrection;
using Qkd.Distillation.ParameterEstimation;

namespace Qkd.Distillation.Tests.ParameterEstimation;

/// <summary>
/// The textbook decoy-state link of key-rate papers (Ma, Qi, Zhao, Lo, PRA 72, 012326 (2005)), written independently of
/// the analyses: transmittance eta = eta_Bob 10^(-alpha L / 10), background yield Y0, misalignment e_d, Poisson source;
/// gain Q_k = 1 - (1 - Y0) e^(-eta mu_k), error gain E_k Q_k = e_d (1 - e^(-eta mu_k)) + Y0 e^(-eta mu_k) / 2. Alice
/// picks Z with probability <see cref="AliceProbabilityZ"/>, Bob with <see cref="BobProbabilityZ"/>. Counts are their
/// expectations for the number of pulses that fills a block of n_Z sifted Z bits, as the papers simulate them; error
/// correction leaks f n_Z h(E_Z).
/// </summary>
internal sealed record DecoyLinkModel(double EtaBob, double Y0, double MisalignmentError, double LossDbPerKm,
    double[] Mu, double[] P, double AliceProbabilityZ, double BobProbabilityZ, double Efficiency)
{
    /// <summary>GYS-like: Bob 4.5% efficiency, Y0 1.7e-6, e_d 3.3%, 0.21 dB/km (Gobby, Yuan, Shields, APL 84, 3762 (2004)).</summary>
    public static DecoyLinkModel Gys(double[] mu, double[] p, double aliceProbabilityZ, double bobProbabilityZ = 0.75, double efficiency = 1.0) =>
        new(0.045, 1.7e-6, 0.033, 0.21, mu, p, aliceProbabilityZ, bobProbabilityZ, efficiency);

    /// <summary>The built-in link settings (LinkSettings.Default): 0.5/0.15/0 with 0.65/0.25/0.10, Alice and Bob pick Z with 0.75.</summary>
    public static readonly double[] DefaultMu = [0.5, 0.15, 0.0];
    public static readonly double[] DefaultP = [0.65, 0.25, 0.10];

    public double Eta(double km) => EtaBob * Math.Pow(10, -LossDbPerKm * km / 10);
    public double Gain(double km, int k) => 1 - (1 - Y0) * Math.Exp(-Eta(km) * Mu[k]);
    public double ErrorGain(double km, int k) => MisalignmentError * (1 - Math.Exp(-Eta(km) * Mu[k])) + Y0 * Math.Exp(-Eta(km) * Mu[k]) / 2;
    private double BothZ => AliceProbabilityZ * BobProbabilityZ;
    private double BothX => (1 - AliceProbabilityZ) * (1 - BobProbabilityZ);
    private double Sum(Func<int, double> f) => f(0) + f(1) + f(2);
    private double Tau(int n) => Sum(k => P[k] * Math.Exp(-Mu[k]) * Math.Pow(Mu[k], n)) / (n == 0 ? 1 : 1);

    /// <summary>Pulses Alice sends to fill a block of <paramref name="blockZ"/> sifted Z bits.</summary>
    public double Pulses(double km, long blockZ) => blockZ / (BothZ * Sum(k => P[k] * Gain(km, k)));

    public double QberZ(double km) => Sum(k => P[k] * ErrorGain(km, k)) / Sum(k => P[k] * Gain(km, k));

    /// <summary>
    /// GLLP with the true single-photon yield and error rate, the key from every intensity as in the finite analyses:
    /// R = p_Z^A p_Z^B [ tau0 Y0 + tau1 Y1 (1 - h(e1)) - f Q h(E) ] per pulse.
    /// </summary>
    public double AsymptoticRatePerPulse(double km)
    {
        double eta = Eta(km);
        double y1 = 1 - (1 - Y0) * (1 - eta), e1 = (MisalignmentError * eta + Y0 * (1 - eta) / 2) / y1;
        double q = Sum(k => P[k] * Gain(km, k));
        double tau1 = Sum(k => P[k] * Mu[k] * Math.Exp(-Mu[k]));
        return Math.Max(0, BothZ * (Tau(0) * Y0 + tau1 * y1 * (1 - BinaryEntropy.H2(e1)) - Efficiency * q * BinaryEntropy.H2(QberZ(km))));
    }

    public (DecoyStatistics Statistics, long[] ErrorsZ) ExpectedCounts(double km, long blockZ)
    {
        double pulses = Pulses(km, blockZ);
        long[] z = new long[3], x = new long[3], mx = new long[3], mz = new long[3];
        for (int k = 0; k < 3; k++)
        {
            z[k] = (long)Math.Round(pulses * BothZ * P[k] * Gain(km, k));
            x[k] = (long)Math.Round(pulses * BothX * P[k] * Gain(km, k));
            mx[k] = (long)Math.Round(pulses * BothX * P[k] * ErrorGain(km, k));
            mz[k] = (long)Math.Round(pulses * BothZ * P[k] * ErrorGain(km, k));
        }
        return (new DecoyStatistics(Mu, P, z, x, mx), mz);
    }

    /// <summary>Secret key length of one block under <paramref name="analysis"/> (a 122-bit verification tag).</summary>
    public KeyLength KeyLength(IFiniteKeyAnalysis analysis, double km, long blockZ, SecurityParameters? security = null)
    {
        security ??= new SecurityParameters();
        var (statistics, errorsZ) = ExpectedCounts(km, blockZ);
        var bounds = analysis.Estimate(statistics, errorsZ, security);
        long nZ = statistics.DetectionsZ.Sum();
        long leak = (long)Math.Ceiling(Efficiency * nZ * BinaryEntropy.H2(Math.Min(QberZ(km), 0.5)));
        return analysis.KeyLength(bounds, leak, 122, security);
    }

    public double FiniteRatePerPulse(IFiniteKeyAnalysis analysis, double km, long blockZ) =>
        KeyLength(analysis, km, blockZ).SecretBits / Pulses(km, blockZ);

    /// <summary>The longest distance (0.5 km steps) with key.</summary>
    public double ReachKm(IFiniteKeyAnalysis analysis, long blockZ)
    {
        double reach = 0;
        for (double km = 0; km <= 250; km += 0.5)
            if (FiniteRatePerPulse(analysis, km, blockZ) > 0) reach = km;
        return reach;
    }
}
