namespace Qkd.Emulation.Firmware;

/// <summary>
/// Hidden lab truth for the emulated devices, what calibration has to find: the light's arrival time after the
/// detectors' gate trigger (gate calibration) and the modulator phase settings (per basis, Z then X) that leave only the
/// profile's base misalignment (alignment calibration). Null: that setting does not change the physics.
/// </summary>
public sealed record EmulatedLabTruth(double? LightArrivalPs = null, long[]? OptimalPhaseMilliradians = null);
