namespace Qkd.Distillation.ParameterEstimation;

/// <summary>
/// The finite-key length of one block (Lim et al. 2014, Eq. 1) and its breakdown, so an operator can see which term
/// ate the key. <see cref="RawValue"/> = <see cref="VacuumTerm"/> + <see cref="SinglePhotonTerm"/> -
/// <see cref="ErrorCorrectionLeak"/> - <see cref="VerificationAndSecrecyCost"/>.
/// </summary>
/// <param name="SecretBits">Bits of secret key to extract (0 when there is none).</param>
/// <param name="RawValue">The bound before flooring and clamping (may be negative).</param>
/// <param name="NoKeyReason">Why <see cref="SecretBits"/> is 0, or null when there is key.</param>
/// <param name="VacuumTerm">s_(Z,0).</param>
/// <param name="SinglePhotonTerm">s_(Z,1) (1 - h(phi_Z)).</param>
/// <param name="ErrorCorrectionLeak">lambda_EC: bits disclosed by error correction.</param>
/// <param name="VerificationAndSecrecyCost">6 log2(21/epsilon_sec) + the verification tag bits (at least log2(2/epsilon_cor)).</param>
public sealed record KeyLength(
    long SecretBits,
    double RawValue,
    string? NoKeyReason,
    double VacuumTerm,
    double SinglePhotonTerm,
    double ErrorCorrectionLeak,
    double VerificationAndSecrecyCost);
