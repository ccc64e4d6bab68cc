namespace Qkd.Lab.Drill;

/// <summary>What the drill found for one attack. Contains no key material; numbers that could not be measured are null.</summary>
public sealed record DrillAttackResult
{
    public required string Attack { get; init; }
    /// <summary>The emulator's eavesdropper as the command line writes it (<c>tap:0.3dB@0.35s</c>).</summary>
    public required string Spec { get; init; }
    public required string Physics { get; init; }
    public required bool ThreatensSecrecy { get; init; }
    public required double OnsetSeconds { get; init; }
    public required double LinkSeconds { get; init; }

    /// <summary>True when a detection source raised an alarm at or after the attack's start.</summary>
    public required bool Detected { get; init; }
    /// <summary>The source of the first alarm after the start ("distiller"), null when none.</summary>
    public string? DetectedBy { get; init; }
    /// <summary>Its check ("QBER threshold", "decoy-state bound", "key length 0", "no blocks"), null when none.</summary>
    public string? Check { get; init; }
    /// <summary>What it said (the abort reason), null when none.</summary>
    public string? Detail { get; init; }
    /// <summary>Blocks that held attacked pulses, up to and including the one that raised the alarm; null when none did.</summary>
    public int? AfterBlocks { get; init; }
    /// <summary>Link time from the attack's start to the light that raised the alarm, seconds; null when undetected.</summary>
    public double? AfterSeconds { get; init; }

    public required int BlocksBeforeAttack { get; init; }
    public required int BlocksTouchedByAttack { get; init; }
    /// <summary>Secret bits of blocks that hold any attacked pulse (a block straddling the start included).</summary>
    public required long SecretBitsWhileAttacked { get; init; }
    /// <summary>Secret bits of blocks all of whose key bits were sent while the attack ran.</summary>
    public required long SecretBitsFromAttackedBlocks { get; init; }
    /// <summary>
    /// Of <see cref="SecretBitsFromAttackedBlocks"/>, those a node would have released: made before the first alarm that
    /// holds key (a link monitor alarm threatening security; a node withholds key from its raising block on). The drill's
    /// verdict for an attack that threatens secrecy requires this to be 0.
    /// </summary>
    public long SecretBitsReleasedFromAttackedBlocks { get; init; }
    /// <summary>What bounds those bits: zero required, or why the security proof still covers them, or why it does not.</summary>
    public required string SecretBitsBound { get; init; }
    /// <summary>Z-basis QBER of the blocks before the attack and of those touched by it (error-corrected blocks only).</summary>
    public double? QberZBefore { get; init; }
    public double? QberZDuring { get; init; }
    /// <summary>Every alarm raised after the attack's start, "source: check: detail".</summary>
    public required IReadOnlyList<string> Alarms { get; init; }
    /// <summary>Alarms raised before the attack started (false alarms of the clean part).</summary>
    public required IReadOnlyList<string> FalseAlarms { get; init; }
    /// <summary>True when the attack was caught, or cost no secrecy and is not a threat (see <see cref="Verdict"/>).</summary>
    public required bool Caught { get; init; }
    /// <summary>The drill's verdict in words.</summary>
    public required string Verdict { get; init; }
}
