namespace Qkd.Distillation.ParameterEstimation;

/// <summary>
/// Which finite-key analysis a link uses (<see cref="IFiniteKeyAnalysis"/>); both ends must agree. The configuration
/// names (<see cref="FiniteKeyAnalyses.Name"/>) are the paper's first author and year.
/// </summary>
public enum FiniteKeyAnalysisKind
{
    /// <summary>Lim, Curty, Walenta, Xu, Zbinden, PRA 89, 022307 (2014): two decoys (signal, decoy, vacuum), Hoeffding bounds. "lim2014".</summary>
    Lim2014,
    /// <summary>Rusca, Boaron, Grünenfelder, Martin, Zbinden, APL 112, 171104 (2018): one decoy (signal, decoy), Hoeffding bounds. "rusca2018".</summary>
    Rusca2018,
    /// <summary>Lim et al.'s two-decoy bounds with the multiplicative Chernoff bounds of Zhang, Zhao, Razavi, Ma, PRA 95, 012333 (2017). "zhang2017".</summary>
    Zhang2017,
    /// <summary>Lim et al.'s two-decoy bounds with Kato's inequality as Currás-Lorenzo, Navarrete, Azuma, Kato, Curty, Razavi, npj Quantum Inf. 7, 22 (2021) use it. "curraslorenzo2021".</summary>
    CurrasLorenzo2021,
    /// <summary>Lim et al.'s two-decoy bounds with the closed-form Chernoff and random-sampling (phase error) bounds of Yin, Zhou, Gu, Xie, Lu, Chen, Sci. Rep. 10, 14312 (2020). "yin2020".</summary>
    Yin2020,
}
