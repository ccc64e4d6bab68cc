using System.Diagnostics;

namespace Qkd.Core.Diagnostics;

/// <summary>
/// Time spent in each <see cref="PipelineStage"/>, added up over a run by every thread that works on it. Stages add
/// Stopwatch time around a batch or a block's step (never per event), so the cost is a few timestamps per batch. Time
/// spent waiting for the peer's reply or for tags to arrive is not counted: a stage's time is the wall time its own code
/// ran, which on a busy machine includes time the thread was preempted (it is not per-thread CPU time).
/// </summary>
public sealed class StageTimes
{
    private static readonly PipelineStage[] Stages = Enum.GetValues<PipelineStage>();
    private readonly long[] _ticks = new long[Stages.Length];

    /// <summary>Every stage, in pipeline order.</summary>
    public static IReadOnlyList<PipelineStage> All => Stages;

    /// <summary>Adds the Stopwatch ticks since <paramref name="startTimestamp"/> (a <see cref="Stopwatch.GetTimestamp"/>) to the stage.</summary>
    public void AddSince(PipelineStage stage, long startTimestamp) => AddTicks(stage, Stopwatch.GetTimestamp() - startTimestamp);

    /// <summary>Adds Stopwatch ticks to the stage (negative amounts are ignored).</summary>
    public void AddTicks(PipelineStage stage, long ticks)
    {
        if (ticks > 0) Interlocked.Add(ref _ticks[(int)stage], ticks);
    }

    /// <summary>Seconds spent in the stage so far.</summary>
    public double Seconds(PipelineStage stage) => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _ticks[(int)stage])).TotalSeconds;
}
