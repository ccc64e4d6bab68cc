namespace Qkd.Distillation.ParameterEstimation;

/// <summary>
/// The security targets of the finite-key statement (Lim et al. 2014): the final key is epsilon_sec-secret and
/// epsilon_cor-correct, so the protocol is (epsilon_sec + epsilon_cor)-secure in the composable sense.
/// </summary>
/// <param name="EpsilonSecrecy">Secrecy parameter epsilon_sec; Lim et al. split it into 21 equal parts for the estimates.</param>
/// <param name="EpsilonCorrectness">Correctness parameter epsilon_cor: the bound on the verification hash collision probability.</param>
public sealed record SecurityParameters(double EpsilonSecrecy = 1e-10, double EpsilonCorrectness = 1e-15)
{
    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> unless both epsilons lie strictly between 0 and 1.</summary>
    public void Validate()
    {
        if (!(EpsilonSecrecy > 0 && EpsilonSecrecy < 1))
            throw new ArgumentOutOfRangeException(nameof(EpsilonSecrecy), EpsilonSecrecy, "epsilon_sec must lie in (0, 1).");
        if (!(EpsilonCorrectness > 0 && EpsilonCorrectness < 1))
            throw new ArgumentOutOfRangeException(nameof(EpsilonCorrectness), EpsilonCorrectness, "epsilon_cor must lie in (0, 1).");
    }
}
