using Qkd.Emulation;

namespace Qkd.Lab.Drill;

/// <summary>The attacks `qkd drill` runs, each modelled in the emulator's physics (src/Qkd.Emulation/README.md).</summary>
public static class DrillCatalogue
{
    public static DrillAttack InterceptResend(double fraction) => new(
        fraction >= 1 ? "intercept-resend" : $"intercept-resend {fraction:0.####}",
        fraction >= 1
            ? "Eve measures every pulse in a random basis and resends a coherent pulse of the same intensity in her basis and result: gains unchanged, ~25-40% errors in both bases"
            : $"as intercept-resend, on a share {fraction:0.####} of the pulses (each independently): errors rise by about that share of 25-40%",
        EavesdropperSpec.InterceptResend(fraction), ThreatensSecrecy: true);

    public static DrillAttack PhotonNumberSplitting { get; } = new("photon-number splitting",
        "Eve keeps one photon of each multi-photon pulse, forwards the rest over a lossless line and blocks single photons, matching the signal gain: decoy gain falls, no single-photon yield",
        EavesdropperSpec.PhotonNumberSplitting(), ThreatensSecrecy: true);

    public static DrillAttack DetectorBlinding { get; } = new("detector blinding",
        "bright CW light puts Bob's APDs in linear mode (no dark counts, no afterpulses, single photons unseen); Eve measures each pulse and sends a bright trigger that fires the detector of her result; gains follow Eve's detections, vacuum pulses never click",
        new EavesdropperSpec { Kind = EavesdropperKind.DetectorBlinding }, ThreatensSecrecy: true);

    public static DrillAttack TimeShift { get; } = new("time-shift",
        $"Eve moves each pulse {EavesdropperSpec.DefaultTimeShiftPs:0} ps early or late, where the bit-0 or the bit-1 detectors (efficiency windows mismatched in time) are the more efficient, and compensates the loss with a better fibre: Bob's result leans to the bit her shift favours, no extra errors",
        new EavesdropperSpec { Kind = EavesdropperKind.TimeShift }, ThreatensSecrecy: true);

    public static DrillAttack FibreTap { get; } = new("fibre tap",
        $"a tap or bend takes {EavesdropperSpec.DefaultTapLossDb} dB of the light: gains fall by that, no extra errors",
        new EavesdropperSpec { Kind = EavesdropperKind.FibreTap }, ThreatensSecrecy: false) { MinimumAttackedBlocks = 4.5 };

    public static DrillAttack DenialOfService { get; } = new("denial of service",
        "the light is blocked (channel transmittance 0): only dark counts reach Bob",
        new EavesdropperSpec { Kind = EavesdropperKind.DenialOfService }, ThreatensSecrecy: false);

    /// <summary>The catalogue's attack of that name (case-insensitive).</summary>
    /// <exception cref="ArgumentException">No attack has that name; the message lists the names.</exception>
    public static DrillAttack Named(string name) =>
        All.FirstOrDefault(a => string.Equals(a.Name, name?.Trim(), StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"--attack: no attack named '{name}'; the catalogue has {string.Join(", ", All.Select(a => $"'{a.Name}'"))}.");

    /// <summary>Every attack, full intercept-resend first; the partial ones come from the drill's fraction search.</summary>
    public static IReadOnlyList<DrillAttack> All { get; } =
    [
        InterceptResend(1),
        PhotonNumberSplitting,
        DetectorBlinding,
        TimeShift,
        FibreTap,
        DenialOfService,
    ];
}
