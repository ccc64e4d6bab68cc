namespace Qkd.Lab;

/// <summary>What <c>qkd calibrate delays</c> found (schema: src/Qkd.Lab/Schemas/delay-calibration.schema.json).</summary>
public sealed record DelayCalibrationReport(
    string Schema,
    string Source,
    string Method,
    ushort SyncChannel,
    int SyncDivider,
    long SyncTags,
    double NominalPulsePeriodPs,
    double MeasuredPulsePeriodPs,
    double PathDelayPs,
    long BinWidthPs,
    IReadOnlyList<DetectorDelayReport> Detectors,
    string? ConfigurationFile);

/// <summary>One detector channel's delay relative to the sync channel.</summary>
public sealed record DetectorDelayReport(
    ushort Channel,
    long Tags,
    double? MaxBinCentrePs,
    double? FoldedCentrePs,
    double? FoldedCentreUncertaintyPs,
    double? SigmaPs,
    double? FwhmPs,
    double? Amplitude,
    double? Background,
    string FitMethod,
    long WholePeriods,
    string WholePeriodsResolvedBy,
    double? VacuumClickFraction,
    double? VacuumClickFractionElsewhere,
    double? DelayPs,
    double? DelayUncertaintyPs,
    long? TrueDelayPs,
    double? ErrorPs,
    string? Plot);
