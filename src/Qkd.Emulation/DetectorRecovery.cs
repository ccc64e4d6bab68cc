using System.Numerics;
using Qkd.Core.Random;

namespace Qkd.Emulation;

/// <summary>
/// Per-detector memory of Bob's receiver: non-paralysable dead time and afterpulsing, in pulse slots.
/// </summary>
/// <remarks>
/// Dead time: a detector that fired in slot i is blind until slot i + ceil(deadTime / period) (at least the next
/// slot); light or dark counts reaching it before then are lost, and do not extend the dead time.
/// Afterpulsing: every firing (an afterpulse included) schedules, with probability p_ap, one afterpulse on the same
/// detector deadTime + Exp(afterpulseDecay) later, rounded to a slot and never inside the dead time. A real click on
/// that detector before the afterpulse is due replaces it (trapped carriers are flushed by the new avalanche).
/// The Bernoulli(p_ap) trials are drawn as geometric gaps between afterpulse-spawning firings, so a firing costs a
/// decrement rather than a random draw.
/// </remarks>
internal sealed class DetectorRecovery
{
    public const long Never = long.MaxValue;

    private readonly long[] _liveFromSlot;
    private readonly long[] _afterpulseSlot;
    private readonly long _recoverySlots;
    private readonly double _periodPs;
    private readonly double _deadTimePs;
    private readonly double _afterpulseDecayPs;
    private readonly double _firingsPerUnitExponential;
    private readonly bool _afterpulsing;
    private readonly Xoshiro256StarStar _random;
    private long _firingsUntilAfterpulse;

    public DetectorRecovery(LinkProfile profile, double pulsePeriodPs, int detectorCount, Xoshiro256StarStar random)
    {
        _random = random;
        _periodPs = pulsePeriodPs;
        _deadTimePs = profile.DeadTimePs;
        _afterpulseDecayPs = profile.AfterpulseDecayPs;
        _recoverySlots = Math.Max(1, (long)Math.Ceiling(profile.DeadTimePs / _periodPs));
        _liveFromSlot = new long[detectorCount];
        _afterpulseSlot = new long[detectorCount];
        Array.Fill(_afterpulseSlot, Never);
        _afterpulsing = profile.AfterpulseProbability > 0;
        _firingsPerUnitExponential = _afterpulsing ? -1.0 / PreciseMath.Log1P(-profile.AfterpulseProbability) : 0;
        _firingsUntilAfterpulse = _afterpulsing ? DrawFiringsUntilAfterpulse() : Never;
        NextAfterpulseSlot = Never;
    }

    /// <summary>Slots a detector stays blind after firing (its own slot included).</summary>
    public long RecoverySlots => _recoverySlots;

    /// <summary>The earliest slot with an afterpulse pending on some detector, or <see cref="Never"/>.</summary>
    public long NextAfterpulseSlot { get; private set; }

    /// <summary>Detectors with an afterpulse due in <paramref name="slot"/>.</summary>
    public uint AfterpulsesDueAt(long slot)
    {
        if (slot != NextAfterpulseSlot) return 0;
        uint due = 0;
        for (int d = 0; d < _afterpulseSlot.Length; d++)
            if (_afterpulseSlot[d] == slot) due |= 1u << d;
        return due;
    }

    /// <summary>
    /// Applies dead time to the firings proposed for <paramref name="slot"/> (light or dark counts, and afterpulses
    /// due), updates every fired detector's state, and returns the detectors that actually fire.
    /// </summary>
    /// <param name="blinded">The detectors are blinded (linear mode): afterpulses due are cancelled and none is scheduled.</param>
    public uint Fire(long slot, uint lightOrDark, uint afterpulses, ref EmulatorCounters counters, bool blinded = false)
    {
        bool pendingChanged = afterpulses != 0;
        if (blinded && afterpulses != 0)
        {
            for (uint due = afterpulses; due != 0; due &= due - 1)
                _afterpulseSlot[BitOperations.TrailingZeroCount(due)] = Never;
            counters.AfterpulsesSuppressedByBlinding += BitOperations.PopCount(afterpulses);
            afterpulses = 0;
        }
        uint proposed = lightOrDark | afterpulses;
        uint fired = 0;
        while (proposed != 0)
        {
            int d = BitOperations.TrailingZeroCount(proposed);
            proposed &= proposed - 1;
            uint bit = 1u << d;
            if (slot < _liveFromSlot[d])
            {
                // Afterpulses are scheduled outside the dead time and cancelled by newer firings, so only light or
                // dark counts can land here; an afterpulse would be dropped the same way.
                counters.FiringsLostToDeadTime++;
                if ((afterpulses & bit) != 0) _afterpulseSlot[d] = Never;
                continue;
            }
            fired |= bit;
            if ((lightOrDark & bit) != 0)
            {
                if (_afterpulseSlot[d] != Never)
                {
                    _afterpulseSlot[d] = Never;
                    counters.AfterpulsesReplaced++;
                    pendingChanged = true;
                }
            }
            else
            {
                _afterpulseSlot[d] = Never;
                counters.AfterpulseFirings++;
            }
            _liveFromSlot[d] = slot + _recoverySlots;
            if (_afterpulsing && !blinded && --_firingsUntilAfterpulse == 0)
            {
                _afterpulseSlot[d] = slot + AfterpulseDelaySlots();
                counters.AfterpulsesScheduled++;
                _firingsUntilAfterpulse = DrawFiringsUntilAfterpulse();
                pendingChanged = true;
            }
        }
        if (pendingChanged) NextAfterpulseSlot = Earliest(_afterpulseSlot);
        return fired;
    }

    private long AfterpulseDelaySlots()
    {
        double delayPs = _deadTimePs + _afterpulseDecayPs * ExponentialSampler.Next(_random);
        double slots = Math.Round(delayPs / _periodPs);
        return slots >= 1e15 ? (long)1e15 : Math.Max(_recoverySlots, (long)slots);
    }

    /// <summary>Geometric(p_ap) on {1, 2, ...}: firings up to and including the next one that spawns an afterpulse.</summary>
    private long DrawFiringsUntilAfterpulse()
    {
        double gap = Math.Floor(ExponentialSampler.Next(_random) * _firingsPerUnitExponential);
        return gap >= 1e15 ? (long)1e15 : 1 + (long)gap;
    }

    private static long Earliest(long[] slots)
    {
        long earliest = Never;
        foreach (long s in slots)
            if (s < earliest) earliest = s;
        return earliest;
    }
}
