namespace Qkd.Core.Diagnostics;

/// <summary>The stages of a link's pipeline whose time a run reports (<see cref="StageTimes"/>).</summary>
public enum PipelineStage
{
    /// <summary>Reading tag batches from the tagger (or a recording) into the ring.</summary>
    Acquisition,
    /// <summary>Clock recovery and decoding tags into detections.</summary>
    ClockRecovery,
    /// <summary>Sifting at both ends (packing and reading sift messages, tallying, buffering sifted bits).</summary>
    Sifting,
    /// <summary>Parameter estimation: X-basis error counts, decoy bounds, key length.</summary>
    Estimation,
    /// <summary>Error correction (Cascade or LDPC) at both ends.</summary>
    ErrorCorrection,
    /// <summary>Verification hashing at both ends.</summary>
    Verification,
    /// <summary>Privacy amplification (Toeplitz hashing) and storing the key at both ends.</summary>
    PrivacyAmplification,
    /// <summary>Handing messages to the classical channel (both ends' sends).</summary>
    Channel,
}
