namespace Qkd.Distillation.ErrorCorrection.Ldpc;

/// <summary>
/// Tuning of LDPC reconciliation. Both ends must use equal options: the plan of every frame (mother code, punctured
/// and shortened bits, reveal steps) follows from them and the QBER estimate.
/// </summary>
public sealed record LdpcOptions
{
    public static LdpcOptions Default { get; } = new();

    /// <summary>
    /// f0: the first syndrome discloses about f0 n h2(q_est) bits. Below the code's threshold most frames fail and
    /// take blind rounds (each up to <see cref="MaxIterations"/> wasted iterations); above it every frame decodes but
    /// the excess is leaked for nothing. Null (the default): the family's own table,
    /// <see cref="LdpcCodeFamily.DecodableEfficiency"/>, the f at which its codes decode nine frames in ten at the
    /// first attempt, found by simulation.
    /// </summary>
    public double? InitialEfficiency { get; init; }

    /// <summary>
    /// Each blind round reveals this fraction of n h2(q_est) more bits of a frame that failed (Martinez-Mateo, Elkouss
    /// and Martin 2012): first the punctured bits (turning them into shortened ones), then key bits, the step
    /// doubling from round to round once the punctured bits are spent, so the rounds stay few whatever happens.
    /// </summary>
    public double RevealStepFraction { get; init; } = 0.025;

    /// <summary>Layered belief-propagation iterations per attempt.</summary>
    public int MaxIterations { get; init; } = 60;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (InitialEfficiency is { } f0 && !(f0 >= 0.5 && f0 <= 2))
            throw new ArgumentOutOfRangeException(nameof(InitialEfficiency), InitialEfficiency, "Must lie in [0.5, 2].");
        if (!(RevealStepFraction > 0 && RevealStepFraction <= 1))
            throw new ArgumentOutOfRangeException(nameof(RevealStepFraction), RevealStepFraction, "Must lie in (0, 1].");
        if (MaxIterations is < 1 or > 1000)
            throw new ArgumentOutOfRangeException(nameof(MaxIterations), MaxIterations, "Must lie in 1..1000.");
    }
}
