using Qkd.ClassicalChannel;
using Qkd.Hardware.RandomNumberGenerator;
using Qkd.Lab.Run;
using Qkd.Node.Devices;
using Qkd.Node.Link;
using System.Text.Json;
using System.Text.Json.Serialization;
using Qkd.Emulation;

namespace Qkd.Lab.Run;

/// <summary>
/// The machine-readable summary of a link run (`--report report.json`). Contains no key material.
/// Numbers that could not be measured (for example QBER when no block was distilled) are null.
/// </summary>
public sealed record LinkReport
{
    public string Format { get; init; } = "qkd-link-report/1";
    public required DateTimeOffset StartedAt { get; init; }
    public required double WallClockSeconds { get; init; }
    /// <summary>The seed the run's choices (symbols, squashing, distiller randomness) followed from; null when they came from the OS CSPRNG.</summary>
    public required ulong? Seed { get; init; }
    /// <summary>The seed of the emulated physics (always seeded).</summary>
    public required ulong EmulatorSeed { get; init; }
    /// <summary>True when the choices followed from <see cref="Seed"/>: anyone who knows it can compute the key, which is then not secret.</summary>
    public required bool Seeded { get; init; }
    /// <summary>Why the keys are not secret, for a seeded run; null otherwise.</summary>
    public string? Warning { get; init; }
    public required string ProfileSource { get; init; }
    /// <summary>The link's physics.</summary>
    public required LinkProfile Profile { get; init; }
    /// <summary>What the link was set to: pulse rate, intensities and their probabilities, sync divider, block sizes.</summary>
    public required LinkSettings Settings { get; init; }
    public required double LinkSeconds { get; init; }
    public required long PulsesSent { get; init; }
    public required long Detections { get; init; }
    public required long SiftedBitsZ { get; init; }
    public required long SiftedBitsX { get; init; }
    /// <summary>Sifted Z bits left over at the end of the run, fewer than a final block needs; discarded, never used as key.</summary>
    public required long SiftedBitsZNotDistilled { get; init; }
    public required IReadOnlyList<IntensityReport> PerIntensity { get; init; }
    public double? QberZ { get; init; }
    public double? QberX { get; init; }
    public DecoyStateReport? DecoyState { get; init; }
    public required ErrorCorrectionReport ErrorCorrection { get; init; }
    public required VerificationReport Verification { get; init; }
    public required long SecretBits { get; init; }
    public required double SecretKeyRateBitsPerSecond { get; init; }
    public required double SecretKeyRateBitsPerPulse { get; init; }
    public required bool IdenticalKeys { get; init; }
    public required bool Aborted { get; init; }
    /// <summary>Why the link aborted, or why it produced no key; null when it produced key normally.</summary>
    public string? Reason { get; init; }
    public required ReceiverReport Receiver { get; init; }
    public required ClassicalChannelReport ClassicalChannel { get; init; }
    /// <summary>The devices the link ran on (identity, connection and stream counters); null without devices (direct emulation, replay).</summary>
    public IReadOnlyList<DeviceReport>? Devices { get; init; }

    /// <summary>What happened to the devices during the run (disconnects, reconnects, overflows, faults), in order.</summary>
    public IReadOnlyList<string>? DeviceLog { get; init; }

    /// <summary>
    /// A replay's recording as checked before the run: intact, or what is damaged (truncated, corrupt or missing
    /// chunks), the tags and time lost and the time it covers, over which <see cref="LinkSeconds"/>, the gains and the
    /// rates are then taken. Null for a live run.
    /// </summary>
    public RecordingIntegrityReport? Recording { get; init; }
    /// <summary>The run's key files at both ends (JSON "keyStores", the field's name since the first report format).</summary>
    [JsonPropertyName("keyStores")]
    public required KeyFilesReport KeyFiles { get; init; }
    public required IReadOnlyList<BlockReport> Blocks { get; init; }

    /// <summary>The finite-key analysis that sized the keys and all its epsilons (per-block terms: <see cref="BlockReport.FiniteKey"/>).</summary>
    public FiniteKeyAnalysisReport? FiniteKeyAnalysis { get; init; }

    /// <summary>Real-time factor, time per pipeline stage, and the ring's fill and drops: whether the host keeps up.</summary>
    public PerformanceReport? Performance { get; init; }

    /// <summary>The link monitor's alarms over the run's blocks (<see cref="RunMonitor"/>); null in reports written before it.</summary>
    public MonitorRunReport? Monitor { get; init; }

    public string ToJson() => JsonSerializer.Serialize(this, LinkReportJson.Default.LinkReport);
}

/// <param name="PulsesSentExpected">N p_k: Alice's emitter draws intensities per pulse; the exact count is not tallied at 1 GHz.</param>
public sealed record IntensityReport(
    string Intensity,
    double MeanPhotonNumber,
    double Probability,
    double PulsesSentExpected,
    long Detections,
    double Gain,
    long SiftedZ,
    long SiftedX,
    long ErrorsX,
    double? ErrorRateX,
    long? ErrorsZ,
    double? ErrorRateZ);

/// <param name="SinglePhotonYieldLower">s_Z,1 lower bound divided by the single-photon Z pulses Bob measured in Z (N p_Z^A q_Z^B tau_1).</param>
public sealed record DecoyStateReport(
    long BlockId,
    double VacuumEventsZLower,
    double SinglePhotonEventsZLower,
    double SinglePhotonEventsXLower,
    double SinglePhotonErrorsXUpper,
    double? SinglePhotonYieldLower,
    double? SinglePhotonErrorRateXUpper,
    double? PhaseErrorRateZUpper,
    string? Problem);

public sealed record ErrorCorrectionReport(
    string Method,
    long LeakedBits,
    double? Efficiency,
    long CorrectedBits,
    int Frames,
    int Rounds);

public sealed record VerificationReport(string Method, int BlocksVerified, int BlocksPassed, int BlocksFailed, int TagBits);

/// <param name="Path">How Bob's detections were obtained.</param>
/// <param name="ClockRecovery">Clock-recovery counters (tags assigned, out of gate, before lock, ...) on the time-tag path.</param>
public sealed record ReceiverReport(
    string Layout,
    string Path,
    long MultiClicks,
    long CrossBasisMultiClicks,
    long InvalidClicks,
    IReadOnlyDictionary<string, long> EmulatorCounters,
    IReadOnlyDictionary<string, long>? ClockRecovery,
    AcquisitionReport? Acquisition);

/// <summary>The acquisition loop and the one ring between the tagger and clock recovery on the time-tag path.</summary>
public sealed record AcquisitionReport(long Tags, IReadOnlyDictionary<string, long> TagsPerChannel, long Overflows, long MissedEvents,
    long DroppedByRing, int RingCapacity, double? DriftEstimatePpm)
{
    public static AcquisitionReport From(Qkd.Acquisition.TimeTagFrontEnd frontEnd)
    {
        var s = frontEnd.Loop.Counters.Snapshot();
        var perChannel = new Dictionary<string, long>();
        for (int channel = 0; channel < s.TagsPerChannel.Count; channel++)
            if (s.TagsPerChannel[channel] != 0) perChannel[channel.ToString(System.Globalization.CultureInfo.InvariantCulture)] = s.TagsPerChannel[channel];
        return new AcquisitionReport(s.Tags, perChannel, s.Overflows, s.MissedEvents, s.DroppedByRing, frontEnd.RingCapacity,
            frontEnd.Clock.IsLocked ? frontEnd.Clock.DriftEstimatePpm : null);
    }
}

/// <param name="EmulatedRoundTripSeconds">The network round trip the run put between the ends (0: in-process, none).</param>
public sealed record ClassicalChannelReport(long MessagesBobToAlice, long BytesBobToAlice, long MessagesAliceToBob, long BytesAliceToBob,
    double EmulatedRoundTripSeconds = 0);

public sealed record KeyFilesReport(string Alice, string Bob, int BlocksStored, long BitsStoredAtAlice, long BitsStoredAtBob);

public sealed record BlockReport(
    long BlockId,
    string Outcome,
    string? Reason,
    long SiftedZ,
    long SiftedX,
    double? QberZ,
    double? QberX,
    double? QberEstimateUsed,
    long LeakedBits,
    double? Efficiency,
    int Rounds,
    bool? VerificationPassed,
    double? PhaseErrorRateZUpper,
    double? SinglePhotonEventsZLower,
    long SecretBits)
{
    /// <summary>The block's decoy bounds, phase error bound and finite-key terms; null when estimation did not run.</summary>
    public FiniteKeyBlockReport? FiniteKey { get; init; }

    /// <summary>How the block was corrected and what the network cost it; null when correction did not run.</summary>
    public BlockErrorCorrectionReport? ErrorCorrection { get; init; }

    /// <summary>Alice's index of the first pulse the block's key bits may come from; null when unknown.</summary>
    public long? FirstPulse { get; init; }

    /// <summary>Alice's index of the pulse of the block's last key bit; null when unknown.</summary>
    public long? LastPulse { get; init; }
}

/// <summary>One block's error correction: the method chosen, its message rounds and the time Bob waited on Alice.</summary>
/// <param name="Method">"cascade" or "ldpc" (on <c>auto</c>, what the measured round trip chose).</param>
/// <param name="Rounds">Message round trips of the block (all frames corrected together, one message pair per round).</param>
/// <param name="FrameRounds">The rounds the frames would have needed one after another.</param>
/// <param name="WaitSeconds">Wall time Bob waited for Alice's replies: the network's round trips plus her work.</param>
/// <param name="RoundTripSeconds">The channel round trip Bob had measured when he chose the method (null before any).</param>
/// <param name="LightSeconds">The light time of the block's pulses (null without a pulse rate): the wait must stay well below it to keep up.</param>
/// <param name="DecodeFailures">LDPC: frames whose first syndrome did not decode (then corrected by blind rounds).</param>
/// <param name="RevealedBits">LDPC: bits revealed by blind rounds (part of the block's leak).</param>
public sealed record BlockErrorCorrectionReport(string Method, int Frames, int Rounds, int FrameRounds, double WaitSeconds,
    double? RoundTripSeconds, double? LightSeconds, int DecodeFailures, long RevealedBits);
