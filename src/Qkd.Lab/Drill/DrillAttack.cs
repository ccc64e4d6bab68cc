using Qkd.Emulation;

namespace Qkd.Lab.Drill;

/// <summary>
/// One attack of the breach drill: what the emulator is told (<see cref="Spec"/>, without its start time, which the
/// drill sets) and, in words for the operator, how it acts on the physics.
/// </summary>
/// <param name="Name">Short name in the table and the report ("detector blinding").</param>
/// <param name="Physics">How the attack acts on the light and the detectors.</param>
/// <param name="Spec">The emulator's eavesdropper; its start time is set per run.</param>
/// <param name="ThreatensSecrecy">
/// True when key produced under the attack would be known to Eve (intercept-resend, PNS, blinding, time-shift): the
/// drill then requires zero secret bits from attacked blocks. False for a tap (the finite-key analysis sees the loss
/// and shortens the key; the rest of the key stays secret) and a denial of service (no light, no key).
/// </param>
public sealed record DrillAttack(string Name, string Physics, EavesdropperSpec Spec, bool ThreatensSecrecy)
{
    /// <summary>
    /// Blocks' worth of link time under attack this attack needs at least, whatever <see cref="DrillOptions.AttackedBlocks"/>
    /// says; null: none. A 0.3 dB tap needs 3 blocks at a node's default loss thresholds (the loss floor is 0.05 dB per
    /// block, so the step is about 6 sigmas a block against a decision interval of 12; src/Qkd.Monitoring/README.md).
    /// </summary>
    public double? MinimumAttackedBlocks { get; init; }

    /// <summary>The spec with the attack starting at <paramref name="seconds"/> of link time.</summary>
    public EavesdropperSpec StartingAt(double seconds) => Spec.StartingAt(seconds);
}
