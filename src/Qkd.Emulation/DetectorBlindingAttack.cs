using System.Numerics;
using Qkd.Core;
using Qkd.Core.Random;

namespace Qkd.Emulation;

/// <summary>
/// Detector blinding with faked states (Makarov 2009; Lydersen, Wiechers, Wittmann, Elser, Skaar, Makarov 2010).
/// Bright CW light drives Bob's avalanche photodiodes into linear mode: they no longer see single photons, dark
/// counts or afterpulses, and fire only when an optical pulse above a power threshold arrives. Eve measures Alice's
/// pulse in a random basis with an ideal detector (she sees something with probability 1 - e^-mu; in Alice's basis
/// her result is Alice's bit, otherwise a coin) and sends Bob a bright trigger pulse prepared in her basis and result.
/// </summary>
/// <remarks>
/// <para>The trigger is classical light: it splits in Bob's receiver by the same shares r_d as photons do
/// (<see cref="ReceiverOptics.ShareOf"/>), and detector d fires when its share of the trigger power P exceeds the
/// threshold. Eve sets P = margin / r_target, the target being the detector of her result when Bob measures in her
/// basis (margin <see cref="TriggerMargin"/> over the threshold). On an active receiver measuring in her basis the
/// target fires alone; in the other basis each detector gets half of P, below the threshold: no click (the textbook
/// attack). On a passive receiver the beam splitter sends part of every trigger to the other basis's pair: with an
/// unequal split (bobProbabilityZ 0.75) an X trigger must be so bright that both Z detectors fire too, a multi-click
/// Bob squashes at random; the physics decides, not a flag.</para>
/// <para>Eve sends a trigger only for a share q of the pulses she saw, chosen so that the signal gain equals the
/// honest one; the decoy and vacuum gains then follow her detection probability 1 - e^-mu (vacuum pulses: none), not
/// the channel's transmittance, and with no dark counts a vacuum pulse never clicks.</para>
/// </remarks>
internal sealed class DetectorBlindingAttack : ChannelAttack
{
    /// <summary>Trigger power over the threshold at the target detector, when Bob measures in Eve's basis.</summary>
    public const double TriggerMargin = 1.5;

    private readonly ReceiverOptics _optics;
    private readonly uint[] _fired = new uint[2 * 2 * 2]; // (eve basis, eve bit, setting)
    private readonly double[] _click = new double[Intensities.Count];
    private readonly double _clickGivenTrigger;

    public DetectorBlindingAttack(LinkProfile profile, TransmitterLight light, ReceiverOptics optics)
    {
        _optics = optics;
        foreach (Basis eveBasis in (Basis[])[Basis.Z, Basis.X])
            for (int eveBit = 0; eveBit < 2; eveBit++)
            {
                int target = optics.IsActive ? eveBit : ((int)eveBasis << 1) | eveBit;
                double power = TriggerMargin / optics.ShareOf(eveBasis, eveBit, eveBasis, target);
                foreach (Basis setting in optics.BasisSettings)
                {
                    uint fired = 0;
                    for (int d = 0; d < optics.DetectorCount; d++)
                        if (power * optics.ShareOf(eveBasis, eveBit, setting, d) > 1.0) fired |= 1u << d;
                    _fired[FiredIndex(eveBasis, eveBit, setting)] = fired;
                }
            }
        // P(a trigger makes a click), Eve's basis a fair coin and Bob's setting drawn as the receiver draws it.
        double clickGivenTrigger = 0;
        foreach (Basis eveBasis in (Basis[])[Basis.Z, Basis.X])
            foreach (Basis setting in optics.BasisSettings)
                if (_fired[FiredIndex(eveBasis, 0, setting)] != 0)
                    clickGivenTrigger += 0.5 * optics.ProbabilityOfSetting(setting);
        _clickGivenTrigger = clickGivenTrigger;

        double honestSignal = ClickPatternTable.ClickProbability(optics.DetectorCount, profile.DarkCountProbabilityPerPulse,
            profile.TotalTransmittance * light.SignalMeanPhotonNumber);
        double eveSeesSignal = PreciseMath.OneMinusExp(-light.SignalMeanPhotonNumber);
        TriggerShare = clickGivenTrigger > 0 && eveSeesSignal > 0 ? Math.Min(1.0, honestSignal / (eveSeesSignal * clickGivenTrigger)) : 0;
        foreach (Intensity k in Intensities.All)
            _click[(int)k] = PreciseMath.OneMinusExp(-light.MeanPhotonNumber(k)) * TriggerShare * clickGivenTrigger;
        MaxClickProbability = _click.Max();
    }

    /// <summary>q: share of the pulses Eve saw for which she sends a trigger.</summary>
    public double TriggerShare { get; }

    public override bool Blinds => true;

    public override double MaxClickProbability { get; }

    public override double ClickProbability(PulseSymbol symbol) => _click[(int)symbol.Intensity];

    public override uint SampleClick(PulseSymbol symbol, Xoshiro256StarStar random, out double timeShiftPs)
    {
        timeShiftPs = 0;
        // Eve's basis and Bob's setting given that her trigger fires something: draw both until it does (each try
        // succeeds with _clickGivenTrigger >= 1/2 on every receiver modelled).
        while (true)
        {
            ulong r = random.NextUInt64();
            var eveBasis = (Basis)(r & 1);
            int eveBit = eveBasis == symbol.Basis ? symbol.Bit : (int)((r >> 1) & 1);
            Basis setting = Basis.Z;
            if (_optics.IsActive)
                setting = (r >> 11) * (1.0 / 9007199254740992.0) < _optics.ProbabilityOfSetting(Basis.Z) ? Basis.Z : Basis.X;
            uint fired = _fired[FiredIndex(eveBasis, eveBit, setting)];
            if (fired != 0) return ClickOutcome.Encode(fired, 0, setting);
        }
    }

    private static int FiredIndex(Basis eveBasis, int eveBit, Basis setting) => ((int)eveBasis << 2) | (eveBit << 1) | (int)setting;
}
