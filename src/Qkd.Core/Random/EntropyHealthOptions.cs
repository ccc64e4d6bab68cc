namespace Qkd.Core.Random;

/// <summary>
/// The claim an <see cref="EntropyHealthMonitor"/> checks a source against, from which the cutoffs of NIST SP 800-90B
/// section 4.4 follow: the kind of sample, the min-entropy H each sample is claimed to carry, the false-positive
/// probability α = 2^−<see cref="AlphaExponent"/> per test, and how long a failed source must pass again before its
/// output is used.
/// </summary>
public sealed record EntropyHealthOptions
{
    /// <summary>Bits (APT window 1024) or bytes (window 512).</summary>
    public EntropySampleKind Samples { get; init; } = EntropySampleKind.Binary;

    /// <summary>H: claimed min-entropy per sample, bits; at most 1 for binary samples and 8 for byte samples.</summary>
    public double MinEntropyPerSample { get; init; } = 1.0;

    /// <summary>
    /// α = 2^−AlphaExponent, the probability that a test trips on a source that meets its claim. The Repetition Count
    /// Test's α is per sample, so at 2^−20 a full-entropy bit stream trips it about once per 2^20 bits (a few times a
    /// second at 100 Mbit/s); the default 2^−30 keeps false alarms rare at the rates a QKD system draws. 20 .. 64.
    /// </summary>
    public int AlphaExponent { get; init; } = 30;

    /// <summary>
    /// Whole APT windows of consecutive samples that must pass both tests, after start-up or a failure, before output is
    /// used again (the recovery rule, see <see cref="EntropyHealthMonitor"/>). At least 1024 samples in all, the
    /// minimum SP 800-90B section 4.3 sets for start-up testing.
    /// </summary>
    public int RecoveryWindows { get; init; } = 16;

    /// <summary>W for <see cref="Samples"/>.</summary>
    public int WindowSize => AdaptiveProportionTest.WindowFor(Samples);

    /// <summary>Consecutive passing samples that end start-up and recovery.</summary>
    public long RecoverySamples => (long)RecoveryWindows * WindowSize;

    /// <summary>The Repetition Count Test's cutoff for this claim (SP 800-90B section 4.4.1).</summary>
    public int RepetitionCutoff => RepetitionCountTest.CutoffFor(MinEntropyPerSample, AlphaExponent);

    /// <summary>The Adaptive Proportion Test's cutoff for this claim (SP 800-90B section 4.4.2).</summary>
    public int ProportionCutoff => AdaptiveProportionTest.CutoffFor(MinEntropyPerSample, AlphaExponent, WindowSize);

    /// <exception cref="ArgumentOutOfRangeException">A value is outside its range; the message names it.</exception>
    public void Validate()
    {
        double maximum = Samples == EntropySampleKind.Binary ? 1 : 8;
        if (!Enum.IsDefined(Samples))
            throw new ArgumentOutOfRangeException(nameof(Samples), Samples, "Binary or Byte samples.");
        if (!(MinEntropyPerSample > 0 && MinEntropyPerSample <= maximum))
            throw new ArgumentOutOfRangeException(nameof(MinEntropyPerSample), MinEntropyPerSample,
                $"A {Samples.ToString().ToLowerInvariant()} sample carries more than 0 and at most {maximum} bits of min-entropy.");
        if (AlphaExponent is < 20 or > 64)
            throw new ArgumentOutOfRangeException(nameof(AlphaExponent), AlphaExponent, "alpha = 2^-AlphaExponent with AlphaExponent 20..64.");
        if (RecoveryWindows < 1 || RecoverySamples < 1024)
            throw new ArgumentOutOfRangeException(nameof(RecoveryWindows), RecoveryWindows,
                $"Recovery must cover at least 1024 samples (SP 800-90B section 4.3): at least {(1023 + WindowSize) / WindowSize} windows of {WindowSize}.");
    }
}
