using Qkd.Core.Diagnostics;

namespace Qkd.Lab.Run;

/// <summary>
/// Whether the host keeps up with the light: the real-time factor (link seconds per wall-clock second), the time each
/// stage of the pipeline took, and how full the ring between the tagger and clock recovery got.
/// </summary>
/// <param name="RealTimeFactor">Link seconds over wall-clock seconds of the whole run, start-up included (≥ 1: the host keeps up).</param>
/// <param name="SteadyStateRealTimeFactor">The same after the first block was distilled (link seconds since the light
/// that block's end had reached, over wall-clock seconds since): start-up and the first block's just-in-time compilation
/// left out. Null when fewer than two blocks were distilled.</param>
/// <param name="FirstBlockWallClockSeconds">Wall-clock seconds from the start of the run until the first block was done; null without blocks.</param>
/// <param name="Stages">Every stage of the pipeline, in order, with the seconds its code ran.</param>
/// <param name="RingFillHighWater">The most tags the ring held at once (null without a time-tag path).</param>
/// <param name="RingCapacity">The ring's capacity, tags (null without a time-tag path).</param>
/// <param name="RingDrops">Tags the ring dropped (null without a time-tag path).</param>
public sealed record PerformanceReport(
    double RealTimeFactor,
    double? SteadyStateRealTimeFactor,
    double? FirstBlockWallClockSeconds,
    IReadOnlyList<StageTimeReport> Stages,
    int? RingFillHighWater,
    int? RingCapacity,
    long? RingDrops);

/// <param name="Stage">The stage's name (acquisition, clockRecovery, sifting, estimation, errorCorrection, verification,
/// privacyAmplification, channel).</param>
/// <param name="Seconds">Seconds the stage's code ran, summed over both ends and all threads.</param>
/// <param name="Measured">How: every stage is timed with Stopwatch around its own code per batch or per block step
/// (both ends share threads with each other and with the thread pool, so per-thread CPU time would mix stages); waits
/// for the peer's replies are left out. Wall time, so on a loaded machine it includes time the thread was preempted.</param>
public sealed record StageTimeReport(string Stage, double Seconds, string Measured)
{
    public static IReadOnlyList<StageTimeReport> From(StageTimes times, bool timeTags) =>
        StageTimes.All.Select(stage => new StageTimeReport(Name(stage), times.Seconds(stage), HowMeasured(stage, timeTags))).ToList();

    private static string Name(PipelineStage stage) => stage switch
    {
        PipelineStage.Acquisition => "acquisition",
        PipelineStage.ClockRecovery => "clockRecovery",
        PipelineStage.Sifting => "sifting",
        PipelineStage.Estimation => "estimation",
        PipelineStage.ErrorCorrection => "errorCorrection",
        PipelineStage.Verification => "verification",
        PipelineStage.PrivacyAmplification => "privacyAmplification",
        PipelineStage.Channel => "channel",
        _ => stage.ToString(),
    };

    private static string HowMeasured(PipelineStage stage, bool timeTags) => stage switch
    {
        PipelineStage.Acquisition => timeTags
            ? "Stopwatch around each batch read from the tag source (a recording: reading and decoding the file, on the acquisition loop's own thread; a driver: taking a batch from its ring, waits for the device included)"
            : "Stopwatch around each batch of clicks the emulator made (the emulated physics)",
        PipelineStage.ClockRecovery => timeTags
            ? "Stopwatch around clock recovery and decoding of each tag batch, on the thread that reads the ring"
            : "Stopwatch around decoding each batch of clicks",
        PipelineStage.Sifting => "Stopwatch around each sift batch at both ends (Bob packing requests and reading replies, Alice answering), waits for the peer left out",
        PipelineStage.Estimation => "Stopwatch around each block's parameter estimation at both ends, waits for the peer left out",
        PipelineStage.ErrorCorrection => "Stopwatch around each block's error correction at both ends, waits for the peer left out",
        PipelineStage.Verification => "Stopwatch around each block's verification hashing at both ends, waits for the peer left out",
        PipelineStage.PrivacyAmplification => "Stopwatch around each block's key sizing, Toeplitz hashing and storing at both ends",
        PipelineStage.Channel => "Stopwatch around every message handed to the classical channel, both ends",
        _ => "Stopwatch",
    };
}
