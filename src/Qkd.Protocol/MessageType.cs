namespace Qkd.Protocol;

/// <summary>
/// Header byte 2. 0x01-0x0F are requests every device class answers, 0x10-0x1F events every class may send, and from
/// 0x20 each class defines its own (the same number means different things to different classes, which is why the
/// header carries the class), whether requests, stream frames or events (the flags say which). Payloads are specified
/// in firmware-protocols/.
/// </summary>
public enum MessageType : byte
{
    // Common requests.
    Identify = 0x01,
    Ping = 0x02,
    GetStatus = 0x03,
    GetParameter = 0x04,
    SetParameter = 0x05,
    ResetSettings = 0x06,

    // Common events.
    StatusChanged = 0x10,
    Overflow = 0x11,
    InterlockChanged = 0x12,

    // Single-photon detector.
    DetectorReadCounts = 0x20,

    /// <summary>Detector with an active basis modulator (two-detector active receiver): start applying the host's bases.</summary>
    DetectorStartBasisModulation = 0x21,

    /// <summary>Stop applying host bases; answers a StreamSummary.</summary>
    DetectorStopBasisModulation = 0x22,

    /// <summary>Stream, host to detector: the basis of consecutive pulses, one bit each (BasisBlockCodec).</summary>
    DetectorBasisData = 0x23,

    // Laser modulator.
    ModulatorStartEmission = 0x20,
    ModulatorStopEmission = 0x21,
    ModulatorSymbolData = 0x22,

    // Time tagger.
    TaggerStartStream = 0x20,
    TaggerStopStream = 0x21,
    TaggerTagData = 0x22,

    // Random number generator.
    RngStartStream = 0x20,
    RngStopStream = 0x21,
    RngEntropyData = 0x22,
    RngGetHealth = 0x23,

    /// <summary>Random number generator event (flags Event): its health flags changed; payload RngHealth.</summary>
    RngHealthChanged = 0x24,
}
