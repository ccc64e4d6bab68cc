using Qkd.Core;
using Qkd.Monitoring;

namespace Qkd.Monitoring.Tests;

/// <summary>
/// Block observations drawn from the emulator's physics model statistics, without running the emulator (so thousands
/// of blocks cost milliseconds). Defaults are the shipped default link (src/Qkd.Emulation/profiles/default-link.json):
/// 25 km at 0.2 dB/km, Bob's internal loss 1.5 dB, detector efficiency 0.25, 1e-6 dark counts per pulse and detector,
/// 1 % misalignment, mu 0.5/0.15/0, p 0.65/0.25/0.10, p_Z 0.75 at both ends (passive receiver), 2^23 sifted Z bits a
/// block. Per pulse of intensity mu the click probability is Q = Y0 + 1 - e^(-eta mu), the error rate
/// (Y0/2 + e_d (Q - Y0)) / Q; counts are binomial, drawn with a seeded generator (a test, never a key).
/// Knobs: per-block functions of the block index for extra loss (dB), misalignment, background, the detectors' shares
/// and the gate share, and a per-block noise (<see cref="LossNoiseDb"/>, <see cref="QberNoise"/>) for what counting does not explain.
/// </summary>
public sealed class SyntheticLink(int seed)
{
    private readonly Random _random = new(seed);

    public double DistanceKm { get; init; } = 25;
    public double FibreLossDbPerKm { get; init; } = 0.2;
    public double BobInternalLossDb { get; init; } = 1.5;
    public double DetectorEfficiency { get; init; } = 0.25;
    public double DarkCountPerDetector { get; init; } = 1e-6;
    public int Detectors { get; init; } = 4;
    public double Misalignment { get; init; } = 0.01;
    public double[] Mu { get; init; } = [0.5, 0.15, 0];
    public double[] P { get; init; } = [0.65, 0.25, 0.10];
    public double ProbabilityZ { get; init; } = 0.75;
    public long BlockSiftedZ { get; init; } = 1L << 23;
    public double PulseRateHz { get; init; } = 1e9;

    /// <summary>Afterpulses and dark counts between gates, per slot: a fixed part plus a share of the in-gate clicks.</summary>
    public double OffGateDark { get; init; } = 3e-6;
    public double OffGatePerClick { get; init; } = 0.01;

    /// <summary>Per-block lognormal noise of the transmittance (dB) and normal noise of the misalignment (absolute).</summary>
    public double LossNoiseDb { get; init; }
    public double QberNoise { get; init; }

    public Func<long, double> ExtraLossDb { get; init; } = _ => 0;
    public Func<long, double> MisalignmentAt { get; init; } = _ => double.NaN;
    /// <summary>Multiplies the background (dark counts and off-gate clicks): 0 is a blinded detector.</summary>
    public Func<long, double> BackgroundFactor { get; init; } = _ => 1;
    /// <summary>Multiplies detector 0's efficiency (the others unchanged).</summary>
    public Func<long, double> Detector0Factor { get; init; } = _ => 1;
    /// <summary>Share of the signal clicks that land inside the gate (1 nominal).</summary>
    public Func<long, double> InGateFactor { get; init; } = _ => 1;

    public DateTimeOffset Start { get; init; } = new(2026, 12, 7, 0, 0, 0, TimeSpan.Zero);

    public double Transmittance(long block)
    {
        double lossDb = DistanceKm * FibreLossDbPerKm + BobInternalLossDb + ExtraLossDb(block);
        return Math.Pow(10, -lossDb / 10) * DetectorEfficiency;
    }

    /// <summary>Pulses per block, from the expected sifted Z rate.</summary>
    public long PulsesPerBlock()
    {
        double eta = Transmittance(0), y0 = Detectors * DarkCountPerDetector, q = 0;
        for (int k = 0; k < 3; k++) q += P[k] * Gain(eta, Mu[k], y0);
        return (long)(BlockSiftedZ / (q * ProbabilityZ * ProbabilityZ));
    }

    public BlockObservation Block(long block)
    {
        double noiseDb = LossNoiseDb > 0 ? LossNoiseDb * Normal() : 0;
        double eta = Transmittance(block) * Math.Pow(10, -noiseDb / 10);
        double y0 = Detectors * DarkCountPerDetector * BackgroundFactor(block);
        double ed = double.IsNaN(MisalignmentAt(block)) ? Misalignment : MisalignmentAt(block);
        if (QberNoise > 0) ed = Math.Clamp(ed + QberNoise * Normal(), 0, 0.5);
        long pulses = PulsesPerBlock();
        double match = ProbabilityZ * ProbabilityZ + (1 - ProbabilityZ) * (1 - ProbabilityZ);
        double zShare = ProbabilityZ * ProbabilityZ / match;
        long[] n = new long[3], d = new long[3], sz = new long[3], ez = new long[3], sx = new long[3], ex = new long[3];
        long clicks = 0;
        for (int k = 0; k < 3; k++)
        {
            n[k] = (long)Math.Round(pulses * P[k] * match);
            double q = Gain(eta, Mu[k], y0);
            d[k] = Binomial(n[k], q);
            sz[k] = Binomial(d[k], zShare);
            sx[k] = d[k] - sz[k];
            double e = q > 0 ? (y0 / 2 + ed * (q - y0)) / q : 0.5;
            ez[k] = Binomial(sz[k], e);
            ex[k] = Binomial(sx[k], e);
            clicks += Binomial((long)Math.Round(pulses * P[k]), q);
        }
        // The passive receiver: Z detectors see p_Z of the light, X detectors the rest, each pair half and half.
        double[] weight = Detectors == 4 ? [ProbabilityZ / 2, ProbabilityZ / 2, (1 - ProbabilityZ) / 2, (1 - ProbabilityZ) / 2] : Enumerable.Repeat(1.0 / Detectors, Detectors).ToArray();
        weight[0] *= Detector0Factor(block);
        double total = weight.Sum();
        long[] perDetector = new long[Detectors];
        long left = clicks;
        double rest = 1;
        for (int i = 0; i < Detectors - 1; i++)
        {
            double share = weight[i] / total;
            perDetector[i] = Binomial(left, Math.Min(1, share / rest));
            left -= perDetector[i];
            rest -= share;
        }
        perDetector[^1] = left;
        long inGate = Binomial(clicks, InGateFactor(block));
        long offGate = Binomial(pulses, OffGateDark * BackgroundFactor(block) + OffGatePerClick * clicks / pulses) + (clicks - inGate);
        return new BlockObservation
        {
            BlockId = block,
            Time = Start.AddSeconds(block * pulses / PulseRateHz),
            MeanPhotonNumbers = Mu,
            Pulses = n,
            Detections = d,
            SiftedZ = sz,
            ErrorsZ = ez,
            SiftedX = sx,
            ErrorsX = ex,
            ClicksPerDetector = perDetector,
            InGateTags = inGate,
            OffGateTags = offGate,
            Slots = pulses,
            PulseRateHz = PulseRateHz,
        };
    }

    public static double Gain(double eta, double mu, double y0) => y0 + 1 - Math.Exp(-eta * mu) - y0 * (1 - Math.Exp(-eta * mu));

    private double Normal()
    {
        double u1 = 1 - _random.NextDouble(), u2 = _random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>A binomial draw: exact by inversion of the Poisson limit for small means, the normal limit for large ones.</summary>
    private long Binomial(long n, double p)
    {
        if (n <= 0 || p <= 0) return 0;
        if (p >= 1) return n;
        double mean = n * p;
        if (mean < 50 && p < 0.05)
        {
            double l = Math.Exp(-mean), prod = _random.NextDouble();
            long k = 0;
            while (prod > l)
            {
                k++;
                prod *= _random.NextDouble();
            }
            return Math.Min(k, n);
        }
        double draw = Math.Round(mean + Math.Sqrt(mean * (1 - p)) * Normal());
        return (long)Math.Clamp(draw, 0, n);
    }
}
