namespace Qkd.Acquisition.Replay;

/// <summary>
/// The 32-bit TTTR record layouts a PicoQuant PTU file can hold, derived from its TTResultFormat_TTTRRecType
/// (bytes from the top: record-format version, format family, T-mode 2/3, hardware 3 PicoHarp, 4 HydraHarp,
/// 5/6 TimeHarp 260 N/P, 7 MultiHarp).
/// </summary>
public enum PtuRecordFormat
{
    /// <summary>PicoHarp 300 T2: channel 4 bits, time tag 28 bits; overflow period 210 698 240.</summary>
    PicoHarpT2,
    /// <summary>PicoHarp 300 T3: channel 4 bits, dtime 12 bits, nsync 16 bits; overflow period 65 536.</summary>
    PicoHarpT3,
    /// <summary>HydraHarp v1 T2: special 1, channel 6, time tag 25 bits; each overflow record is one period of 33 552 000.</summary>
    HydraHarpV1T2,
    /// <summary>HydraHarp v1 T3: special 1, channel 6, dtime 15, nsync 10 bits; each overflow record is one period of 1024.</summary>
    HydraHarpV1T3,
    /// <summary>HydraHarp v2, TimeHarp 260 and MultiHarp T2: as v1 but the period is 2^25 and an overflow record
    /// carries its overflow count in the time-tag field.</summary>
    GenericT2,
    /// <summary>HydraHarp v2, TimeHarp 260 and MultiHarp T3: as v1 but an overflow record carries its count in nsync.</summary>
    GenericT3,
}
