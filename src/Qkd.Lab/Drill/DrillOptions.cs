namespace Qkd.Lab.Drill;

/// <summary>What `qkd drill` runs: the link, its length per attack, the seeds and the detection sources.</summary>
public sealed record DrillOptions
{
    /// <summary>Fibre length, km.</summary>
    public double DistanceKm { get; init; } = 80;

    /// <summary>
    /// Seed of every choice (symbols, squashing, distiller randomness) and of the physics; null: the choices come from
    /// the OS CSPRNG and the physics from the emulator's default seed. A drill is an emulation either way.
    /// </summary>
    public ulong? Seed { get; init; }

    /// <summary>Key block size, bits: small, so that each run completes a few blocks in little link time.</summary>
    public long BlockSizeBits { get; init; } = 1L << 18;

    /// <summary>Blocks' worth of clean link time before the attack starts (more than one, so one full block is clean).</summary>
    public double CleanBlocks { get; init; } = 1.25;

    /// <summary>Blocks' worth of link time under attack.</summary>
    public double AttackedBlocks { get; init; } = 2.5;

    /// <summary>Smallest intercept-resend fraction the search tries.</summary>
    public double SmallestFraction { get; init; } = 1.0 / 64;

    /// <summary>Where the runs' key files go (deleted after the drill); null: a fresh temporary directory.</summary>
    public string? KeysDirectory { get; init; }

    /// <summary>Only these attacks (by name); null: the whole catalogue and the fraction search.</summary>
    public IReadOnlyList<DrillAttack>? Attacks { get; init; }

    /// <summary>Run the intercept-resend fraction search (when <see cref="Attacks"/> is null).</summary>
    public bool SearchInterceptFraction { get; init; } = true;

    /// <summary>
    /// Consult the link monitor (<see cref="LinkMonitorDetector"/>): the drill first runs the link clean for
    /// <see cref="BaselineBlocks"/> blocks, from which the monitor learns its baselines, then replays each attacked run's
    /// blocks through it.
    /// </summary>
    public bool LinkMonitor { get; init; } = true;

    /// <summary>Blocks of the clean baseline run (the monitor's warm-up).</summary>
    public int BaselineBlocks { get; init; } = 10;

    /// <summary>The link monitor's thresholds; null: a node's defaults (src/Qkd.Monitoring/README.md).</summary>
    public Qkd.Monitoring.MonitorOptions? Monitor { get; init; }

    public void Validate()
    {
        if (LinkMonitor && BaselineBlocks is < 1 or > 1000) throw new ArgumentException($"Baseline blocks must lie in [1, 1000], got {BaselineBlocks}.");
        Monitor?.Validate();
        if (!(DistanceKm >= 0 && DistanceKm <= 500)) throw new ArgumentException($"--distance-km must lie in [0, 500], got {DistanceKm}.");
        if (BlockSizeBits < 1024) throw new ArgumentException($"Block size must be at least 1024 bits, got {BlockSizeBits}.");
        if (!(CleanBlocks > 1 && CleanBlocks < 100)) throw new ArgumentException($"Clean blocks must lie in (1, 100), got {CleanBlocks}.");
        if (!(AttackedBlocks > 1 && AttackedBlocks < 100)) throw new ArgumentException($"Attacked blocks must lie in (1, 100), got {AttackedBlocks}.");
        if (!(SmallestFraction > 0 && SmallestFraction <= 1)) throw new ArgumentException($"Smallest fraction must lie in (0, 1], got {SmallestFraction}.");
    }
}
