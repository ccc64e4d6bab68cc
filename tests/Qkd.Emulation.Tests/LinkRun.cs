using System.Numerics;
using Qkd.Core;
using Qkd.Core.Random;
using Qkd.Core.Symbols;
using Qkd.Emulation;

namespace Qkd.Emulation.Tests;

/// <summary>
/// Runs an emulated link over pulses [0, N) and tallies, per intensity, what Alice sent (pulses counted exactly from
/// the symbol source) and what Bob's decoder would make of the clicks (multi-clicks squashed to random values).
/// </summary>
internal sealed class LinkRun
{
    private const int Batch = 1 << 14;

    /// <param name="light">The light Alice sends; default: <see cref="DefaultLink.Light"/>.</param>
    /// <param name="alice">Alice's choice probabilities; default: <see cref="DefaultLink.Alice"/>.</param>
    public LinkRun(LinkProfile profile, long pulses, ulong seed = 1, bool keepClicks = false, bool countPulses = true,
        TransmitterLight? light = null, SymbolDistribution? alice = null)
    {
        Profile = profile;
        Light = light ?? DefaultLink.Light;
        Alice = alice ?? DefaultLink.Alice;
        Pulses = pulses;
        var source = new SeededSymbolSource(seed * 31 + 7, Alice);
        Link = new EmulatedLink(profile, Light, source, seed);
        var squash = new Xoshiro256StarStar(seed ^ 0x5EED);
        var buffer = new DetectorClick[Batch];
        var kept = keepClicks ? new List<DetectorClick>() : null;
        int n;
        while ((n = Link.Emit(buffer, pulses)) > 0)
        {
            for (int i = 0; i < n; i++)
            {
                DetectorClick click = buffer[i];
                kept?.Add(click);
                PulseSymbol symbol = source.SymbolAt(click.PulseIndex);
                int k = (int)symbol.Intensity;
                Clicks[k]++;
                if (BitOperations.PopCount(click.ChannelMask) > 1) MultiClicks[k]++;
                (Basis basis, int bit) = Decode(profile.ReceiverLayout, click, squash);
                if (basis != symbol.Basis) continue;
                Sifted[k, (int)basis]++;
                if (bit != symbol.Bit) Errors[k, (int)basis]++;
            }
        }
        ClickList = kept;
        if (countPulses)
            for (long i = 0; i < pulses; i++)
                PulsesOf[(int)source.IntensityAt(i)]++;
    }

    public LinkProfile Profile { get; }

    public TransmitterLight Light { get; }

    public SymbolDistribution Alice { get; }

    public long Pulses { get; }

    public EmulatedLink Link { get; }

    public long[] PulsesOf { get; } = new long[Intensities.Count];

    public long[] Clicks { get; } = new long[Intensities.Count];

    public long[] MultiClicks { get; } = new long[Intensities.Count];

    /// <summary>[intensity, Alice's basis].</summary>
    public long[,] Sifted { get; } = new long[Intensities.Count, 2];

    public long[,] Errors { get; } = new long[Intensities.Count, 2];

    public List<DetectorClick>? ClickList { get; }

    public double Gain(Intensity k) => (double)Clicks[(int)k] / PulsesOf[(int)k];

    public long SiftedCount(Intensity k) => Sifted[(int)k, 0] + Sifted[(int)k, 1];

    public double ErrorRate(Intensity k) => (double)(Errors[(int)k, 0] + Errors[(int)k, 1]) / SiftedCount(k);

    public double ErrorRate(Intensity k, Basis basis) => (double)Errors[(int)k, (int)basis] / Sifted[(int)k, (int)basis];

    /// <summary>The decoder's convention (see Qkd.Acquisition.DetectionDecoder): squash multi-clicks to random values.</summary>
    public static (Basis Basis, int Bit) Decode(ReceiverLayout layout, DetectorClick click, IRandomSource random)
    {
        int mask = click.ChannelMask;
        if (layout == ReceiverLayout.ActiveTwoDetector)
            return (click.ActiveBasis, BitOf(mask & 3, random));
        int z = mask & 3, x = (mask >> 2) & 3;
        Basis basis = z != 0 && x != 0 ? ((random.NextUInt64() & 1) == 0 ? Basis.Z : Basis.X) : z != 0 ? Basis.Z : Basis.X;
        return (basis, BitOf(basis == Basis.Z ? z : x, random));
    }

    private static int BitOf(int pair, IRandomSource random) => pair switch
    {
        1 => 0,
        2 => 1,
        _ => (int)(random.NextUInt64() & 1),
    };
}

/// <summary>Statistical assertions with the tolerance spelled out.</summary>
internal static class Stat
{
    /// <summary>
    /// Asserts |measured - expected| &lt;= sigmas * sqrt(expected (1 - expected) / trials) (binomial). When fewer than
    /// ten events are expected the normal approximation fails, so the exact Poisson tail is used instead: the count
    /// must not be less likely than a two-sided 'sigmas' deviation (4 sigma: probability 6.3e-5).
    /// </summary>
    public static void WithinBinomial(double expected, long successes, long trials, double sigmas = 4, string what = "")
    {
        Assert.True(trials > 0, $"{what}: no trials");
        double measured = (double)successes / trials;
        double mean = expected * trials;
        if (mean < 10)
        {
            double tail = successes >= mean ? PoissonUpperTail(mean, successes) : PoissonLowerTail(mean, successes);
            double allowed = Erfc(sigmas / Math.Sqrt(2)) / 2;
            Assert.True(tail >= allowed,
                $"{what}: measured {successes}/{trials}, expected {mean:G4} events; Poisson tail {tail:G3} < {allowed:G3}");
            return;
        }
        double sd = Math.Sqrt(expected * (1 - expected) / trials);
        Assert.True(Math.Abs(measured - expected) <= sigmas * sd + 1e-15,
            $"{what}: measured {measured:G6} ({successes}/{trials}), expected {expected:G6} +- {sigmas} x {sd:G3}");
    }

    /// <summary>P(X &gt;= k) for X ~ Poisson(mean).</summary>
    private static double PoissonUpperTail(double mean, long k) => 1 - PoissonLowerTail(mean, k - 1);

    /// <summary>P(X &lt;= k) for X ~ Poisson(mean).</summary>
    private static double PoissonLowerTail(double mean, long k)
    {
        if (k < 0) return 0;
        double term = Math.Exp(-mean), sum = term;
        for (long i = 1; i <= k; i++)
        {
            term *= mean / i;
            sum += term;
        }
        return Math.Min(1, sum);
    }

    /// <summary>Complementary error function (Numerical Recipes' Chebyshev fit, relative error below 1.2e-7).</summary>
    private static double Erfc(double x)
    {
        double z = Math.Abs(x), t = 1 / (1 + 0.5 * z);
        double r = t * Math.Exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
            t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? r : 2 - r;
    }
}
