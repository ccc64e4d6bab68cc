using Qkd.Core;
using Qkd.Core.Random;

namespace Qkd.Emulation;

/// <summary>
/// An attack that replaces the honest physics of the pulses it acts on (blinding, time-shift, a tap, a denial of
/// service): it says how likely an attacked pulse is to click, and draws the click's detector pattern given that it
/// does, with every choice Eve makes for that pulse drawn conditioned on the click. The emulator's thinning sampler
/// proposes candidate pulses at the largest click probability of any pulse and accepts an attacked one with
/// <see cref="ClickProbability"/> over that rate, so the click process stays exact pulse by pulse.
/// </summary>
internal abstract class ChannelAttack
{
    /// <summary>P(at least one detector fires | attacked pulse with this symbol).</summary>
    public abstract double ClickProbability(PulseSymbol symbol);

    /// <summary>The largest <see cref="ClickProbability"/> over every symbol.</summary>
    public abstract double MaxClickProbability { get; }

    /// <summary>The outcome (<see cref="ClickOutcome"/>) of an attacked pulse that clicks, and how far Eve moved it in time.</summary>
    public abstract uint SampleClick(PulseSymbol symbol, Xoshiro256StarStar random, out double timeShiftPs);

    /// <summary>True while the detectors are blinded: no dark counts, no afterpulses (linear mode).</summary>
    public virtual bool Blinds => false;

    /// <summary>P(click) of coherent light with mean detected photons m(setting, d), the setting drawn as the receiver draws it.</summary>
    protected static double CoherentClickProbability(ReceiverOptics optics, Func<Basis, int, double> meanDetected, double darkCount)
    {
        double click = 0;
        foreach (Basis setting in optics.BasisSettings)
        {
            double total = 0;
            for (int d = 0; d < optics.DetectorCount; d++) total += meanDetected(setting, d);
            click += optics.ProbabilityOfSetting(setting) * ClickPatternTable.ClickProbability(optics.DetectorCount, darkCount, total);
        }
        return click;
    }

    protected static int PatternIndex(int intensity, Basis basis, int bit) => (intensity << 2) | ((int)basis << 1) | bit;
}
