using Qkd.Lab.Run;
using Qkd.Monitoring;

namespace Qkd.Lab.Drill;

/// <summary>What a detection source gets to see of one drill run: the run's report and when the attack started.</summary>
/// <param name="Report">The run as `qkd run --report` would write it (blocks carry their pulse ranges).</param>
/// <param name="OnsetSeconds">Link time the attack started.</param>
/// <param name="PulseRateHz">Alice's pulse rate, to turn pulse indices into link time.</param>
public sealed record DrillObservation(LinkReport Report, double OnsetSeconds, double PulseRateHz)
{
    /// <summary>The link monitor's input of each block of this run, in order (<see cref="RunMonitor.Observations"/>); empty when not recorded.</summary>
    public IReadOnlyList<BlockObservation> MonitorBlocks { get; init; } = [];

    /// <summary>The same of the drill's clean baseline run, which a monitor learns the link from first; empty when there was none.</summary>
    public IReadOnlyList<BlockObservation> BaselineBlocks { get; init; } = [];

    /// <summary>Pulse index from which the attack ran.</summary>
    public long OnsetPulse => (long)Math.Round(OnsetSeconds * PulseRateHz);

    /// <summary>Link time of a pulse, seconds.</summary>
    public double SecondsOf(long pulse) => pulse / PulseRateHz;

    /// <summary>True when the block's key bits include pulses sent while the attack ran.</summary>
    public static bool Touched(BlockReport block, long onsetPulse) => block.LastPulse is long last && last >= onsetPulse;

    /// <summary>True when all of the block's key bits come from pulses sent while the attack ran.</summary>
    public static bool WhollyAttacked(BlockReport block, long onsetPulse) => block.FirstPulse is long first && first >= onsetPulse;
}
