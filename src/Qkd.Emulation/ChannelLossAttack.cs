using Qkd.Core;
using Qkd.Core.Random;

namespace Qkd.Emulation;

/// <summary>
/// A fibre tap or bend (extra loss of a few tenths of a dB) or a denial of service (the light blocked): the channel's
/// transmittance is multiplied by 10^(-extraLoss/10), or by 0. The light stays coherent and its routing inside Bob's
/// receiver is unchanged, so the gains fall by that factor and the error rate does not move (until, blocked, only
/// dark counts are left, which are right half of the time).
/// </summary>
internal sealed class ChannelLossAttack : ChannelAttack
{
    private readonly AliasTable?[] _patterns = new AliasTable?[Intensities.Count * 4];
    private readonly double[] _click = new double[Intensities.Count];

    /// <param name="transmittanceFactor">What the attack leaves of the channel's transmittance, in [0, 1].</param>
    public ChannelLossAttack(LinkProfile profile, TransmitterLight light, ReceiverOptics optics, double transmittanceFactor)
    {
        double eta = profile.TotalTransmittance * transmittanceFactor;
        double dark = profile.DarkCountProbabilityPerPulse;
        foreach (Intensity k in Intensities.All)
        {
            double mu = light.MeanPhotonNumber(k);
            _click[(int)k] = ClickPatternTable.ClickProbability(optics.DetectorCount, dark, eta * mu);
            foreach (Basis basis in (Basis[])[Basis.Z, Basis.X])
                for (int bit = 0; bit < 2; bit++)
                {
                    Basis b = basis;
                    int x = bit;
                    _patterns[PatternIndex((int)k, b, x)] = ClickPatternTable.Build(
                        optics, (setting, d) => mu * eta * optics.ShareOf(b, x, setting, d), dark, includeSettings: true);
                }
        }
        MaxClickProbability = _click.Max();
    }

    public override double MaxClickProbability { get; }

    public override double ClickProbability(PulseSymbol symbol) => _click[(int)symbol.Intensity];

    public override uint SampleClick(PulseSymbol symbol, Xoshiro256StarStar random, out double timeShiftPs)
    {
        timeShiftPs = 0;
        return _patterns[PatternIndex((int)symbol.Intensity, symbol.Basis, symbol.Bit)]!.Sample(random.NextUInt64());
    }
}
