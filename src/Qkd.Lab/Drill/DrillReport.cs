using System.Text.Json;

namespace Qkd.Lab.Drill;

/// <summary>
/// The machine-readable result of `qkd drill` (schema: Schemas/drill.schema.json). Contains no key material; values
/// that could not be measured are null, never NaN.
/// </summary>
public sealed record DrillReport
{
    public string Kind { get; init; } = "drill";
    public string Format { get; init; } = "qkd-drill-report/1";
    public required DateTimeOffset StartedAt { get; init; }
    public required double WallClockSeconds { get; init; }
    public required double DistanceKm { get; init; }
    /// <summary>The seed of the runs' choices, null when they came from the OS CSPRNG (the physics is always seeded).</summary>
    public required ulong? Seed { get; init; }
    public required ulong EmulatorSeed { get; init; }
    public required bool Seeded { get; init; }
    public string? Warning { get; init; }
    public required long BlockSizeBits { get; init; }
    /// <summary>Clean link time before each attack starts, seconds.</summary>
    public required double OnsetSeconds { get; init; }
    /// <summary>Link time of each run, seconds.</summary>
    public required double LinkSecondsPerAttack { get; init; }
    /// <summary>The detection sources the drill consulted, by name.</summary>
    public required IReadOnlyList<string> Detectors { get; init; }
    public required IReadOnlyList<DrillAttackResult> Attacks { get; init; }
    /// <summary>The partial intercept-resend runs of the fraction search, halving from 1 until one goes undetected.</summary>
    public required IReadOnlyList<FractionStep> InterceptResendSearch { get; init; }
    /// <summary>The smallest intercept-resend fraction the link detected; null when even the full attack went undetected.</summary>
    public double? SmallestDetectedInterceptFraction { get; init; }
    /// <summary>True when every attack was caught.</summary>
    public required bool AllCaught { get; init; }
    /// <summary>The attacks not caught, by name.</summary>
    public required IReadOnlyList<string> NotCaught { get; init; }

    public string ToJson() => JsonSerializer.Serialize(this, DrillJson.Default.DrillReport);
}

/// <summary>One run of the intercept-resend fraction search.</summary>
public sealed record FractionStep(double Fraction, bool Detected, string? Check, long SecretBitsFromAttackedBlocks);
