using System.Globalization;
using Qkd.Distillation.FrameSync;
using Qkd.Distillation.Messages;

namespace Qkd.Node.Link;

/// <summary>
/// What Alice announces at the start of a session (<see cref="EmissionAnnouncement"/>) and how Bob checks it against
/// his own link settings: the pulse rate and the sync divider must be the same at both ends, or Bob's clock recovery
/// would count pulses that Alice never sent.
/// </summary>
public static class EmissionAgreement
{
    /// <summary>
    /// The pilot's length: 2^20 pulses (a millisecond at 1 GHz, about 0.1 % of a second's pulses) hold some ten thousand
    /// sifted detections on a 25 km link and the 400 that frame synchronisation needs down to a detection probability
    /// of about 6e-4 per pulse; at most a quarter of the emission.
    /// </summary>
    public const long PilotPulses = 1 << 20;

    /// <summary>
    /// The longest fibre delay Bob's frame synchronisation allows for without being told it: 1 ms, about 200 km of
    /// fibre. It sets the offsets searched and how long after the emission's end Bob still listens.
    /// </summary>
    public const double MaxFibreDelayPs = 1e9;

    /// <summary>Detector tags Bob's clock recovery folds to find the light's arrival phase when the fibre delay is unknown.</summary>
    public const int ArrivalPhaseSearchTags = 4096;

    /// <summary>Alice's announcement of an emission of <paramref name="pulses"/> pulses under <paramref name="settings"/>, with its pilot.</summary>
    public static EmissionAnnouncement Announce(LinkSettings settings, long pulses)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return new EmissionAnnouncement(pulses, settings.PulseRateHz, settings.PulsesPerSync, Math.Min(PilotPulses, pulses / 4));
    }

    /// <summary>
    /// The offsets Bob's frame synchronisation searches for <paramref name="emission"/>: up to <see cref="MaxFibreDelayPs"/>
    /// of delay his clock recovery was not told, and syncs lost at the start for up to half the pilot.
    /// </summary>
    public static FrameSyncWindow Window(EmissionAnnouncement emission) =>
        FrameSyncWindow.For(Math.Max(1, emission.PilotPulses), (long)Math.Ceiling(MaxFibreDelayPs * emission.PulseRateHz / 1e12));

    /// <summary>Null when Bob (<paramref name="bob"/>) can receive <paramref name="alice"/>; else why not, naming both ends' values.</summary>
    public static string? Mismatch(LinkSettings bob, EmissionAnnouncement alice)
    {
        ArgumentNullException.ThrowIfNull(bob);
        var problems = new List<string>();
        // The rate travels as the double Alice's settings hold; a relative 1e-9 forgives only a rounding of the same number.
        if (Math.Abs(alice.PulseRateHz - bob.PulseRateHz) > 1e-9 * Math.Max(alice.PulseRateHz, bob.PulseRateHz))
            problems.Add($"pulse rate: Alice {Hz(alice.PulseRateHz)}, Bob's pulseRateHz {Hz(bob.PulseRateHz)}");
        if (alice.PulsesPerSync != bob.PulsesPerSync)
            problems.Add($"sync divider: Alice {alice.PulsesPerSync} pulses per sync, Bob's pulsesPerSync {bob.PulsesPerSync}");
        return problems.Count == 0
            ? null
            : $"Alice's emission does not match Bob's link settings ({string.Join("; ", problems)}): set both ends to the same link settings";
    }

    private static string Hz(double rate) => rate.ToString("R", CultureInfo.InvariantCulture) + " pulses/s";
}
