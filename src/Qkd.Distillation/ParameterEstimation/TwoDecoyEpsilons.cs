namespace Qkd.Distillation.ParameterEstimation;

/// <summary>The epsilons of Lim et al.'s statement (supplementary Eq. 14) with epsilon_sec split into 21 equal parts.</summary>
internal static class TwoDecoyEpsilons
{
    public static IReadOnlyList<EpsilonShare> For(SecurityParameters security, string countBound)
    {
        double share = security.EpsilonSecrecy / FiniteSizeStatistics.SecrecySplit;
        return
        [
            new("eps_sec", security.EpsilonSecrecy, "secrecy of the final key (trace distance to an ideal key)"),
            new("eps_cor", security.EpsilonCorrectness, "correctness: the verification hash lets unequal keys pass"),
            new("eps_sec/21", share, "each of the 21 equal parts of eps_sec (Lim et al. 2014, supplementary Eq. 14)"),
            new("eps_PE per estimate", share, countBound + " (n_Z,k, n_X,k, m_X,k)"),
            new("eps_gamma", share, "random-sampling bound between the single-photon X error rate and the Z phase error rate"),
            new("eps_bar, eps_PA", share, "smoothing of the min-entropy and the leftover hash lemma: 6 log2(21/eps_sec) bits"),
        ];
    }
}
