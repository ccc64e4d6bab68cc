namespace Qkd.Distillation.ParameterEstimation;

/// <summary>One failure probability of a finite-key statement, for the run report: what it bounds and its value.</summary>
/// <param name="Name">The symbol, as in the paper (for example "eps_PE per estimate").</param>
/// <param name="Value">The probability.</param>
/// <param name="Meaning">What fails with that probability.</param>
public sealed record EpsilonShare(string Name, double Value, string Meaning);
