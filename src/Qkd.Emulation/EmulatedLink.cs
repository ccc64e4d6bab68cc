using System.Numerics;
using System.Runtime.CompilerServices;
using Qkd.Core;
using Qkd.Core.Random;
using Qkd.Core.Symbols;

namespace Qkd.Emulation;

/// <summary>
/// The emulated light and receiver of a decoy-state BB84 link: Alice's weak coherent pulses (symbols from an
/// <see cref="ISymbolSource"/>), the fibre, an optional eavesdropper, and Bob's detectors with dark counts,
/// afterpulsing, dead time, jitter and a drifting clock. It produces Bob's clicks in pulse order, pulse by pulse
/// exactly as the physics says, without visiting the (overwhelmingly many) pulses that produce nothing.
/// </summary>
/// <remarks>
/// <para>Next-click sampling. Every pulse clicks independently with P(any | k) = 1 - (1 - p_dark)^D exp(-eta mu_k),
/// which depends only on the pulse's intensity k. The sampler jumps to the next candidate pulse with a geometric skip
/// of parameter P_max = max_k P(any | k) and accepts candidate i with probability P(any | k_i) / P_max (thinning),
/// reading k_i from the symbol source. This is an exact Bernoulli process per pulse at O(1) cost per candidate;
/// with the default profile about 1.3 candidates are drawn per click.</para>
/// <para>Click pattern. Given that the pulse clicks, the detector pattern is drawn from its exact conditional
/// distribution (see <see cref="ClickPatternTable"/>), precomputed per intensity, prepared basis and bit.</para>
/// <para>Determinism. The emulator's own randomness comes from named <see cref="Xoshiro256StarStar"/> streams of the
/// seed (light, detector recovery, modulator, jitter), each consumed in pulse order, so the click stream depends
/// only on (profile, symbols, seed) and not on how <see cref="Emit"/> is called.</para>
/// <para>The physics and its formulas are documented in src/Qkd.Emulation/README.md. An instance is a single stream
/// of events and is not thread-safe; run one per link.</para>
/// </remarks>
public sealed class EmulatedLink
{
    private const long Never = long.MaxValue;
    private const ulong Always = ulong.MaxValue;
    private const double Two64 = 18446744073709551616.0;
    private const double Unit53 = 1.0 / 9007199254740992.0;

    private readonly ISymbolSource _alice;
    private readonly SeededSymbolSource? _seededAlice;
    private readonly ReceiverOptics _optics;
    private readonly AliasTable?[] _coherentPatterns;
    private readonly IReceiverBasisSettings? _bobSettings;
    private readonly AliasTable?[]? _settingPatterns;
    private readonly PhotonNumberSplittingAttack? _photonNumberSplitting;
    private readonly ChannelAttack? _channelAttack;
    private readonly bool _blinding;
    private readonly long _onsetPulse;
    private readonly bool _interceptResend;
    private readonly ulong _attackThreshold;
    private readonly double[] _eveDetectionProbability;
    private readonly ulong[] _acceptThreshold;
    private readonly double _candidateGapPerExponential;
    private readonly double _maxClick;
    private readonly bool _noClicksPossible;
    private readonly DetectorRecovery _recovery;
    private readonly BobClock _clock;
    private readonly double _jitterRmsPs;
    private readonly double _bobProbabilityZ;
    private readonly Xoshiro256StarStar _lightRandom;
    private readonly Xoshiro256StarStar _modulatorRandom;
    private readonly Xoshiro256StarStar _jitterRandom;

    private long _nextCandidate;
    private bool _candidateDrawn;
    private bool _pendingSampled;
    private long _pendingSlot;
    private uint _pendingOutcome;
    private bool _pendingEavesdropped;
    private PulseSymbol _pendingSymbol;
    private bool _pendingSplit;
    private double _pendingTimeShiftPs;
    private long _position;
    private EmulatorCounters _counters;

    /// <param name="profile">The link's physics; validated here.</param>
    /// <param name="light">The light Alice's transmitter sends (pulse rate, intensity levels); validated here.</param>
    /// <param name="alice">Alice's symbols; the emulator reads the symbol of every pulse it considers for a click.</param>
    /// <param name="seed">Seed of the emulator's own randomness (photon statistics, detectors, eavesdropper).</param>
    /// <param name="bobSettings">An active receiver's modulator settings as Bob chose them; null draws them here from
    /// bobProbabilityZ (then Bob cannot know the basis of a click from the tag stream). Passive receivers take none.</param>
    /// <exception cref="LinkProfileException">The profile or the light is invalid.</exception>
    /// <exception cref="ArgumentException">Settings given for a passive receiver.</exception>
    public EmulatedLink(LinkProfile profile, TransmitterLight light, ISymbolSource alice, ulong seed, IReceiverBasisSettings? bobSettings = null)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(light);
        ArgumentNullException.ThrowIfNull(alice);
        profile.Validate();
        light.Validate();
        Profile = profile;
        Light = light;
        _alice = alice;
        _seededAlice = alice as SeededSymbolSource;
        _optics = new ReceiverOptics(profile);
        Layout = profile.ReceiverLayout;
        if (bobSettings is not null && !_optics.IsActive)
            throw new ArgumentException($"Bob's basis settings drive an active receiver; the profile has {Layout}.", nameof(bobSettings));
        _bobSettings = bobSettings;

        _lightRandom = Xoshiro256StarStar.ForStream(seed, "emulator/light");
        _modulatorRandom = Xoshiro256StarStar.ForStream(seed, "emulator/modulator");
        _jitterRandom = Xoshiro256StarStar.ForStream(seed, "emulator/jitter");
        _recovery = new DetectorRecovery(profile, light.PulsePeriodPs, _optics.DetectorCount, Xoshiro256StarStar.ForStream(seed, "emulator/recovery"));
        _clock = new BobClock(profile, light.PulseRateHz);
        _jitterRmsPs = profile.TimingJitterRmsPs;
        _bobProbabilityZ = profile.BobProbabilityZ;

        double eta = profile.TotalTransmittance;
        double darkCount = profile.DarkCountProbabilityPerPulse;
        int detectors = _optics.DetectorCount;
        double noise = RamanScattering.DetectedPhotonsPerGate(profile, light.PulsePeriodPs); // classical traffic's Raman light, 0 on a dark fibre

        // Honest (and intercept-resend) light: click pattern tables per (intensity, prepared basis, prepared bit).
        _coherentPatterns = new AliasTable?[Intensities.Count * 4];
        var honestClick = new double[Intensities.Count];
        _eveDetectionProbability = new double[Intensities.Count];
        foreach (Intensity k in Intensities.All)
        {
            double mu = light.MeanPhotonNumber(k);
            honestClick[(int)k] = ClickPatternTable.ClickProbability(detectors, darkCount, eta * mu + noise);
            _eveDetectionProbability[(int)k] = PreciseMath.OneMinusExp(-mu);
            foreach (Basis basis in (Basis[])[Basis.Z, Basis.X])
                for (int bit = 0; bit < 2; bit++)
                {
                    Basis b = basis;
                    int x = bit;
                    _coherentPatterns[PatternIndex((int)k, b, x)] = ClickPatternTable.Build(
                        _optics, (setting, d) => mu * eta * _optics.ShareOf(b, x, setting, d) + noise * _optics.NoiseShareOf(setting, d), darkCount, includeSettings: true);
                }
        }
        if (bobSettings is not null)
        {
            // One table per setting: the pattern given the setting Bob chose. The click probability does not depend on
            // the setting (the modulator only routes the light between the two detectors), so the thinning is unchanged.
            _settingPatterns = new AliasTable?[Intensities.Count * 8];
            foreach (Intensity k in Intensities.All)
            {
                double mu = light.MeanPhotonNumber(k);
                foreach (Basis basis in (Basis[])[Basis.Z, Basis.X])
                    for (int bit = 0; bit < 2; bit++)
                        foreach (Basis setting in (Basis[])[Basis.Z, Basis.X])
                        {
                            Basis b = basis, s = setting;
                            int x = bit;
                            _settingPatterns[(PatternIndex((int)k, b, x) << 1) | (int)s] = ClickPatternTable.Build(
                                _optics, (_, d) => mu * eta * _optics.ShareOf(b, x, s, d) + noise * _optics.NoiseShareOf(s, d), darkCount, includeSettings: false, fixedSetting: s);
                        }
            }
        }

        EavesdropperSpec eve = profile.Eavesdropper;
        double attackFraction = !eve.IsActive ? 0 : eve.TakesFraction ? eve.Fraction : 1;
        _attackThreshold = ThresholdOf(attackFraction);
        // Pulses before the attack's start see the honest channel.
        _onsetPulse = eve.StartSeconds is double start ? (long)Math.Round(start * light.PulseRateHz) : 0;
        _interceptResend = eve.Kind == EavesdropperKind.InterceptResend && attackFraction > 0;
        var attackedClick = new double[Intensities.Count];
        if (eve.Kind == EavesdropperKind.PhotonNumberSplitting && attackFraction > 0)
        {
            _photonNumberSplitting = new PhotonNumberSplittingAttack(profile, light, _optics);
            foreach (Intensity k in Intensities.All)
                attackedClick[(int)k] = _photonNumberSplitting.ClickProbability(k);
        }
        if (attackFraction > 0)
        {
            _channelAttack = eve.Kind switch
            {
                EavesdropperKind.DetectorBlinding => new DetectorBlindingAttack(profile, light, _optics),
                EavesdropperKind.TimeShift => new TimeShiftAttack(profile, light, _optics, eve.EffectiveTimeShiftPs),
                EavesdropperKind.FibreTap => new ChannelLossAttack(profile, light, _optics, Units.TransmittanceFromDb(eve.EffectiveExtraLossDb)),
                EavesdropperKind.DenialOfService => new ChannelLossAttack(profile, light, _optics, 0),
                _ => null,
            };
            if (_channelAttack is not null && bobSettings is not null)
                throw new ArgumentException($"The {eve.Kind} attack is modelled for a passive receiver and for an active one that draws its own settings, not for an active receiver driven by Bob's basis stream.", nameof(bobSettings));
            _blinding = _channelAttack?.Blinds ?? false;
        }

        // Thinning: the candidate rate is the largest click probability any pulse can have.
        double maxClick = 0;
        bool everyPulseAttacked = attackFraction >= 1 && _onsetPulse == 0;
        if (!((_photonNumberSplitting is not null || _channelAttack is not null) && everyPulseAttacked)) maxClick = Math.Max(maxClick, honestClick.Max());
        if (_photonNumberSplitting is not null) maxClick = Math.Max(maxClick, attackedClick.Max());
        if (_channelAttack is not null) maxClick = Math.Max(maxClick, _channelAttack.MaxClickProbability);
        _maxClick = maxClick;
        _noClicksPossible = !(maxClick > 0);
        _candidateGapPerExponential = maxClick >= 1 ? 0 : _noClicksPossible ? 0 : -1.0 / PreciseMath.Log1P(-maxClick);
        _acceptThreshold = new ulong[2 * Intensities.Count];
        for (int k = 0; k < Intensities.Count; k++)
        {
            _acceptThreshold[k] = _noClicksPossible ? 0 : ThresholdOf(honestClick[k] / maxClick);
            _acceptThreshold[Intensities.Count + k] = _noClicksPossible ? 0 : ThresholdOf(attackedClick[k] / maxClick);
        }
    }

    public LinkProfile Profile { get; }

    /// <summary>The light Alice's transmitter sends.</summary>
    public TransmitterLight Light { get; }

    public ReceiverLayout Layout { get; }

    /// <summary>Bob's own settings of an active receiver, or null (see the constructor).</summary>
    public IReceiverBasisSettings? BobSettings => _bobSettings;

    /// <summary>
    /// Pulses fully emulated so far: every click at a pulse index below this has been emitted, and the next
    /// <see cref="Emit"/> continues from here.
    /// </summary>
    public long PulsesEmitted => _position;

    /// <summary>A snapshot of what the model has added, dropped and emitted so far.</summary>
    public EmulatorCounters Counters => _counters;

    /// <summary>
    /// Writes Bob's next clicks, in strictly increasing pulse order, one <see cref="DetectorClick"/> per pulse slot
    /// (<see cref="DetectorClick.ChannelMask"/> holds every detector that fired in it), until
    /// <paramref name="destination"/> is full or the next click would fall at or after
    /// <paramref name="endPulseExclusive"/>. Returns the number written; the next call continues where this stopped.
    /// </summary>
    public int Emit(Span<DetectorClick> destination, long endPulseExclusive)
    {
        if (endPulseExclusive <= _position) return 0;
        // Hot-loop state in locals; the per-click counters are summed here and stored once at the end.
        DetectorRecovery recovery = _recovery;
        BobClock clock = _clock;
        Xoshiro256StarStar jitterRandom = _jitterRandom;
        double jitterRmsPs = _jitterRmsPs;
        long clicks = 0, firingsTotal = 0, multiClicks = 0, darkOnlyClicks = 0, eavesdroppedClicks = 0;
        int written = 0;
        while (written < destination.Length)
        {
            // The search for the next light click stops at the end: past it nothing may be sampled yet (the symbols
            // may not exist, and where no pulse can click, as with blinded detectors past an emission's end, an
            // unbounded search would never return).
            if (!_pendingSampled) SampleNextLightClick(endPulseExclusive);
            long lightSlot = _pendingSampled ? _pendingSlot : Never;
            long slot = Math.Min(lightSlot, recovery.NextAfterpulseSlot);
            if (slot >= endPulseExclusive)
            {
                _position = endPulseExclusive;
                break;
            }

            uint lightOrDark = 0, darkOnly = 0;
            bool lightClickHere = lightSlot == slot;
            Basis setting = Basis.Z;
            bool gateOpen = true;
            if (_bobSettings is not null)
            {
                // Read in slot order (light and afterpulse slots alike): the host's basis stream is consumed in order.
                gateOpen = _bobSettings.TryGetSetting(slot, out setting);
                if (lightClickHere && gateOpen) _pendingOutcome = SampleOutcome(_pendingSymbol, _pendingSplit, setting);
            }
            double timeShiftPs = 0;
            if (lightClickHere)
            {
                timeShiftPs = _pendingTimeShiftPs;
                uint outcome = gateOpen ? _pendingOutcome : 0;
                lightOrDark = ClickOutcome.Fired(outcome);
                darkOnly = ClickOutcome.DarkOnly(outcome);
                setting = ClickOutcome.ActiveBasis(outcome);
                _pendingSampled = false;
            }
            // Blinded detectors (linear mode) neither afterpulse nor count dark: only Eve's triggers fire them.
            uint fired = recovery.Fire(slot, lightOrDark, recovery.AfterpulsesDueAt(slot), ref _counters, blinded: _blinding && slot >= _onsetPulse);
            _position = slot + 1;

            if (!gateOpen)
            {
                // No basis in this slot: the gates are closed, nothing the physics produced here is detected. Return what
                // there is: past the pattern's end no click will ever come, and the caller moves on by PulsesEmitted.
                if (fired != 0 || lightClickHere) _counters.ClicksWithoutBasis++;
                break;
            }
            if (lightClickHere && (fired & lightOrDark) == 0) _counters.ClicksLostToDeadTime++;
            if (fired == 0) continue;

            if (!lightClickHere && _optics.IsActive && _bobSettings is null)
            {
                // An afterpulse alone: Bob's modulator still had a setting for this slot, chosen independently.
                setting = _modulatorRandom.NextDouble() < _bobProbabilityZ ? Basis.Z : Basis.X;
            }
            double jitter = (jitterRmsPs > 0 ? jitterRmsPs * NormalSampler.Next(jitterRandom) : 0.0) + timeShiftPs;
            destination[written++] = new DetectorClick(slot, clock.TimeAt(slot, jitter), (byte)fired, setting);

            int firings = BitOperations.PopCount(fired);
            clicks++;
            firingsTotal += firings;
            if (firings > 1) multiClicks++;
            if ((fired & ~darkOnly) == 0) darkOnlyClicks++;
            if (lightClickHere && _pendingEavesdropped && (fired & lightOrDark) != 0) eavesdroppedClicks++;
        }
        _counters.Clicks += clicks;
        _counters.DetectorFirings += firingsTotal;
        _counters.MultiClicks += multiClicks;
        _counters.DarkCountOnlyClicks += darkOnlyClicks;
        _counters.EavesdroppedClicks += eavesdroppedClicks;
        return written;
    }

    /// <summary>
    /// Finds the next pulse below <paramref name="limit"/> at which light or dark counts make a detector fire, and its
    /// outcome (before dead time). A candidate at or after the limit is kept untested (<see cref="_candidateDrawn"/>,
    /// <see cref="_pendingSampled"/> stays false) and tested first on the next call, so the random draws, and with them
    /// the clicks, are those of one unbounded search whatever the limits of the calls.
    /// </summary>
    private void SampleNextLightClick(long limit)
    {
        _pendingSampled = true;
        bool drawn = _candidateDrawn;
        _candidateDrawn = false;
        // Locals: the loop runs ~1.3 times per click and the JIT cannot keep fields in registers across its calls.
        Xoshiro256StarStar random = _lightRandom;
        ulong[] acceptThreshold = _acceptThreshold;
        PhotonNumberSplittingAttack? photonNumberSplitting = _photonNumberSplitting;
        double gapScale = _candidateGapPerExponential;
        long next = _nextCandidate;
        while (true)
        {
            long candidate;
            if (drawn)
            {
                candidate = next; // drawn by an earlier call that stopped at its limit
                drawn = false;
            }
            else
            {
                // Geometric skip to the next candidate: floor(E / lambda) empty pulses with lambda = -ln(1 - P_max).
                double gap = _noClicksPossible ? double.PositiveInfinity : ExponentialSampler.Next(random) * gapScale;
                if (!(gap < Never - next - 1))
                {
                    _nextCandidate = _pendingSlot = Never;
                    return;
                }
                candidate = next + (long)gap;
            }
            if (candidate >= limit)
            {
                _nextCandidate = candidate;
                _candidateDrawn = true;
                _pendingSampled = false;
                return;
            }
            next = candidate + 1;

            PulseSymbol symbol = SymbolAt(candidate);
            int k = (int)symbol.Intensity;
            if (_channelAttack is not null && candidate >= _onsetPulse && Bernoulli(random, _attackThreshold))
            {
                // Blinding, time-shift, tap or blocked light: the attack's own click probability and pattern.
                if (!(random.NextDouble() * _maxClick < _channelAttack.ClickProbability(symbol)))
                {
                    _counters.CandidatePulsesRejected++;
                    continue;
                }
                _nextCandidate = next;
                _pendingSlot = candidate;
                _pendingOutcome = _channelAttack.SampleClick(symbol, random, out _pendingTimeShiftPs);
                _pendingEavesdropped = true;
                return;
            }
            bool attacked = photonNumberSplitting is not null && candidate >= _onsetPulse && Bernoulli(random, _attackThreshold);
            if (!Bernoulli(random, acceptThreshold[attacked ? Intensities.Count + k : k]))
            {
                _counters.CandidatePulsesRejected++;
                continue;
            }
            _nextCandidate = next;
            _pendingTimeShiftPs = 0;

            if (_bobSettings is not null)
            {
                // The pattern depends on Bob's setting, read when the slot is emitted (in slot order). Deferring the
                // draws keeps the light stream's order: nothing else draws from it before this slot is emitted.
                _pendingSlot = candidate;
                _pendingSymbol = symbol;
                _pendingSplit = attacked;
                return;
            }

            uint outcome;
            if (attacked)
            {
                outcome = photonNumberSplitting!.SampleClick(symbol.Intensity, symbol, random);
            }
            else
            {
                Basis basis = symbol.Basis;
                int bit = symbol.Bit;
                if (_interceptResend && candidate >= _onsetPulse && Bernoulli(random, _attackThreshold))
                {
                    // Eve measures in a random basis with an ideal detector. She learns Alice's bit only if her basis
                    // matches and the pulse held a photon; otherwise her result is a fair coin. She resends a coherent
                    // pulse of the same intensity prepared in her basis and result, so P(click) is unchanged and only
                    // the pattern, drawn for Eve's state, carries her errors.
                    attacked = true;
                    ulong r = random.NextUInt64();
                    var eveBasis = (Basis)(r & 1);
                    bool learns = eveBasis == basis && (r >> 11) * Unit53 < _eveDetectionProbability[k];
                    bit = learns ? bit : (int)((r >> 1) & 1);
                    basis = eveBasis;
                }
                outcome = _coherentPatterns[PatternIndex(k, basis, bit)]!.Sample(random.NextUInt64());
            }
            _pendingSlot = candidate;
            _pendingOutcome = outcome;
            _pendingEavesdropped = attacked;
            return;
        }
    }

    /// <summary>The click outcome of an accepted candidate given Bob's setting (active receiver with Bob's settings).</summary>
    private uint SampleOutcome(PulseSymbol symbol, bool split, Basis setting)
    {
        Xoshiro256StarStar random = _lightRandom;
        _pendingEavesdropped = split;
        if (split) return _photonNumberSplitting!.SampleClick(symbol.Intensity, symbol, random, setting);
        int k = (int)symbol.Intensity;
        Basis basis = symbol.Basis;
        int bit = symbol.Bit;
        if (_interceptResend && _pendingSlot >= _onsetPulse && Bernoulli(random, _attackThreshold))
        {
            _pendingEavesdropped = true;
            ulong r = random.NextUInt64();
            var eveBasis = (Basis)(r & 1);
            bool learns = eveBasis == basis && (r >> 11) * Unit53 < _eveDetectionProbability[k];
            bit = learns ? bit : (int)((r >> 1) & 1);
            basis = eveBasis;
        }
        return _settingPatterns![(PatternIndex(k, basis, bit) << 1) | (int)setting]!.Sample(random.NextUInt64());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private PulseSymbol SymbolAt(long pulse) =>
        _seededAlice is not null ? _seededAlice.SymbolAt(pulse) : _alice.SymbolAt(pulse);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Bernoulli(Xoshiro256StarStar random, ulong threshold) =>
        threshold == Always || (threshold != 0 && random.NextUInt64() < threshold);

    /// <summary>A probability as a threshold on 64 uniform bits; 1 and 0 are exact and cost no draw.</summary>
    private static ulong ThresholdOf(double probability)
    {
        if (probability >= 1) return Always;
        if (!(probability > 0)) return 0;
        double scaled = probability * Two64;
        // The largest double below 2^64; anything above would not fit a ulong.
        return scaled >= 18446744073709549568.0 ? Always - 1 : (ulong)scaled;
    }

    private static int PatternIndex(int intensity, Basis basis, int bit) => (intensity << 2) | ((int)basis << 1) | bit;
}
