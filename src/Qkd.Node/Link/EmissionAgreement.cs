using System.Globalization;
using Qkd.Distillation.Messages;

namespace Qkd.Node.Link;

/// <summary>
/// What Alice announces at the start of a session (<see cref="EmissionAnnouncement"/>) and how Bob checks it against
/// his own link settings: the pulse rate and the sync divider must be the same at both ends, or Bob's clock recovery
/// would count pulses that Alice never sent.
/// </summary>
public static class EmissionAgreement
{
    /// <summary>Alice's announcement of an emission of <paramref name="pulses"/> pulses under <paramref name="settings"/>.</summary>
    public static EmissionAnnouncement Announce(LinkSettings settings, long pulses)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return new EmissionAnnouncement(pulses, settings.PulseRateHz, settings.PulsesPerSync);
    }

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
