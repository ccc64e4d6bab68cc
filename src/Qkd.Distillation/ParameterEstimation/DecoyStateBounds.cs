namespace Qkd.Distillation.ParameterEstimation;

/// <summary>
/// The finite-size decoy-state bounds of one block (Lim et al. 2014, Eqs. 2-5), counts not rates. Undefined values
/// (for example an error rate over zero certified events) are NaN, and <see cref="Problem"/> then says why the block
/// cannot yield key.
/// </summary>
/// <param name="VacuumEventsZLower">s_(Z,0): lower bound on Z detections caused by vacuum pulses.</param>
/// <param name="SinglePhotonEventsZLower">s_(Z,1): lower bound on Z detections caused by single-photon pulses.</param>
/// <param name="VacuumEventsXLower">s_(X,0).</param>
/// <param name="SinglePhotonEventsXLower">s_(X,1).</param>
/// <param name="SinglePhotonErrorsXUpper">v_(X,1): upper bound on bit errors in single-photon X detections.</param>
/// <param name="SinglePhotonErrorRateXUpper">v_(X,1) / s_(X,1).</param>
/// <param name="PhaseErrorRateZUpper">phi_Z: upper bound on the phase error rate of the single-photon Z detections.</param>
/// <param name="Problem">Why the bounds certify no secure single-photon events, or null when they are usable.</param>
public sealed record DecoyStateBounds(
    double VacuumEventsZLower,
    double SinglePhotonEventsZLower,
    double VacuumEventsXLower,
    double SinglePhotonEventsXLower,
    double SinglePhotonErrorsXUpper,
    double SinglePhotonErrorRateXUpper,
    double PhaseErrorRateZUpper,
    string? Problem)
{
    /// <summary>
    /// s^u_(Z,0): the upper bound on vacuum events the one-decoy analysis subtracts (Rusca et al. 2018, Eq. A16); NaN for
    /// the two-decoy analyses, which need none.
    /// </summary>
    public double VacuumEventsZUpper { get; init; } = double.NaN;
}
