using Qkd.Core;
using Qkd.Core.Random;

namespace Qkd.Emulation;

/// <summary>
/// The time-shift attack (Qi, Fung, Lo, Ma 2007; Zhao, Fung, Qi, Chen, Lo 2008) on detectors whose efficiency windows
/// are mismatched in time. Eve moves each attacked pulse early (-shift) or late (+shift), a fair coin she keeps: early
/// light finds the bit-0 detectors more efficient, late light the bit-1 detectors, so Bob's result leans towards the
/// bit Eve's shift favours and she learns part of the key without touching the polarisation or phase (no QBER).
/// </summary>
/// <remarks>
/// Detector efficiency at arrival offset t is detectorEfficiency × f_b(t) (<see cref="LinkProfile.EfficiencyFactorAt"/>).
/// Shifted light is detected less often on average, so Eve replaces the fibre by a lower-loss one: she multiplies the
/// transmittance by c = 2 / (f_0(s) + f_1(s)) (the efficiency lost, averaged over the two detectors), at most the whole
/// fibre loss 10^(L alpha / 10). Detector d then receives Poisson light of mean mu eta c r_d f_bit(d)(±s); the tags
/// are stamped ±s later. The gains stay honest; what changes is the balance between each pair of detectors per shift
/// and the arrival times.
/// </remarks>
internal sealed class TimeShiftAttack : ChannelAttack
{
    private readonly AliasTable?[] _patterns = new AliasTable?[Intensities.Count * 8];
    private readonly double[] _clickPerSide = new double[Intensities.Count * 8];
    private readonly double _shiftPs;

    public TimeShiftAttack(LinkProfile profile, TransmitterLight light, ReceiverOptics optics, double shiftPs)
    {
        _shiftPs = shiftPs;
        double dark = profile.DarkCountProbabilityPerPulse;
        var factor = new double[2, 2];
        for (int side = 0; side < 2; side++)
            for (int bit = 0; bit < 2; bit++)
                factor[side, bit] = profile.EfficiencyFactorAt(bit, side == 0 ? -shiftPs : shiftPs);
        double fibreGain = Units.TransmittanceFromDb(-profile.FibreLengthKm * profile.FibreLossDbPerKm);
        Compensation = Math.Min(2.0 / (factor[0, 0] + factor[0, 1]), fibreGain);
        double eta = profile.TotalTransmittance * Compensation;
        double max = 0;
        foreach (Intensity k in Intensities.All)
        {
            double mu = light.MeanPhotonNumber(k);
            foreach (Basis basis in (Basis[])[Basis.Z, Basis.X])
                for (int bit = 0; bit < 2; bit++)
                    for (int side = 0; side < 2; side++)
                    {
                        Basis b = basis;
                        int x = bit, s = side;
                        Func<Basis, int, double> mean = (setting, d) => mu * eta * optics.ShareOf(b, x, setting, d) * factor[s, d & 1];
                        int index = (PatternIndex((int)k, b, x) << 1) | s;
                        _patterns[index] = ClickPatternTable.Build(optics, mean, dark, includeSettings: true);
                        _clickPerSide[index] = CoherentClickProbability(optics, mean, dark);
                        max = Math.Max(max, 0.5 * (_clickPerSide[index & ~1] + _clickPerSide[index | 1]));
                    }
        }
        MaxClickProbability = Math.Max(max, _clickPerSide.Max());
    }

    /// <summary>c: the factor by which Eve's lower-loss fibre raises the transmittance.</summary>
    public double Compensation { get; }

    public override double MaxClickProbability { get; }

    public override double ClickProbability(PulseSymbol symbol)
    {
        int index = PatternIndex((int)symbol.Intensity, symbol.Basis, symbol.Bit) << 1;
        return 0.5 * (_clickPerSide[index] + _clickPerSide[index | 1]);
    }

    public override uint SampleClick(PulseSymbol symbol, Xoshiro256StarStar random, out double timeShiftPs)
    {
        int index = PatternIndex((int)symbol.Intensity, symbol.Basis, symbol.Bit) << 1;
        double early = _clickPerSide[index], late = _clickPerSide[index | 1];
        // Eve's coin, conditioned on the click: P(side | click) is proportional to P(click | side).
        int side = random.NextDouble() * (early + late) < early ? 0 : 1;
        timeShiftPs = side == 0 ? -_shiftPs : _shiftPs;
        return _patterns[index | side]!.Sample(random.NextUInt64());
    }
}
