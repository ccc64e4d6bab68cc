using Qkd.Core;
using Qkd.Distillation.ErrorCorrection;
using Qkd.Distillation.ParameterEstimation;

namespace Qkd.Distillation;

/// <summary>
/// Settings both ends of a link must share. A mismatch (for example different block sizes) would desynchronise the
/// protocol, so the node loads them from one link configuration.
/// </summary>
public sealed record DistillationOptions
{
    /// <summary>Mean photon number of each intensity class (Signal, Decoy, Vacuum), as Alice's source is set.</summary>
    public required double[] MeanPhotonNumbers { get; init; }

    /// <summary>Probability of each intensity class, as Alice's random choice uses them.</summary>
    public required double[] IntensityProbabilities { get; init; }

    /// <summary>Sifted Z bits per privacy-amplification block (the finite-key block size n_Z).</summary>
    public long BlockSizeBits { get; init; } = 1L << 23;

    /// <summary>Bits per error-correction frame; a block is split into frames of about this size.</summary>
    public int FrameSizeBits { get; init; } = 1 << 20;

    /// <summary>At the end of a session, leftover sifted Z bits are distilled as a last block only if at least this many.</summary>
    public long MinimumFinalBlockBits { get; init; } = 1L << 16;

    /// <summary>X-basis QBER above which the link aborts (an eavesdropper or a fault): no error correction is attempted.</summary>
    public double AbortQber { get; init; } = 0.11;

    /// <summary>Largest sift request Alice accepts (a bound on what a peer can make her allocate).</summary>
    public const int MaxSiftBatchSize = 1 << 24;

    /// <summary>
    /// Detections per sifting message: Bob queues detections and sends a sift request when this many are waiting (and
    /// the rest when the session ends). Every message costs an authentication tag, so larger batches spend less pad;
    /// a block finishes at most one batch's arrival time late. Blocks do not depend on it.
    /// </summary>
    public int SiftBatchSize { get; init; } = 1 << 16;

    /// <summary>
    /// Run this end's stages concurrently: sifting goes on while a block is estimated, corrected, verified and amplified
    /// (block n is distilled while block n+1 is sifted), over the same channel and the same messages (each kind keeps
    /// to its lane, <see cref="Protocol.MessageLanes"/>). Blocks and keys are exactly those of the sequential end; only
    /// when they finish changes. Local to each end: either end may set it, whatever the other does. Default false: a
    /// block is distilled inside the <see cref="BobDistiller.SiftAsync"/> call whose batch filled it.
    /// </summary>
    public bool ConcurrentStages { get; init; }

    /// <summary>
    /// Toeplitz seed bits per AmplificationSeed message: the protocol's <see cref="Messages.AmplificationSeed.PartBits"/>.
    /// Tests lower it (to a multiple of 64) so that small blocks exercise seeds sent in several parts.
    /// </summary>
    internal long AmplificationSeedPartBits { get; init; } = Messages.AmplificationSeed.PartBits;

    public SecurityParameters Security { get; init; } = new();

    /// <summary>
    /// The finite-key analysis both ends size the key with (README.md, "Finite-key analyses"); default
    /// <see cref="FiniteKeyAnalyses.Default"/>. The one-decoy analysis (<see cref="FiniteKeyAnalysisKind.Rusca2018"/>) allows a
    /// vacuum probability of 0.
    /// </summary>
    public FiniteKeyAnalysisKind FiniteKeyAnalysis { get; init; } = FiniteKeyAnalyses.Default;

    /// <summary>The implementation of <see cref="FiniteKeyAnalysis"/>.</summary>
    public IFiniteKeyAnalysis Analysis => FiniteKeyAnalyses.For(FiniteKeyAnalysis);

    public CascadeOptions Cascade { get; init; } = CascadeOptions.Default;

    /// <summary>
    /// How blocks are corrected: Cascade (the default), rate-adaptive LDPC, or per block from the measured round trip
    /// (<see cref="ReconciliationChoice"/>). Bob decides per block and says which in the block's first correction
    /// message; Alice refuses a method this setting excludes.
    /// </summary>
    public ReconciliationMethod Reconciliation { get; init; } = ReconciliationMethod.Cascade;

    public ErrorCorrection.Ldpc.LdpcOptions Ldpc { get; init; } = ErrorCorrection.Ldpc.LdpcOptions.Default;

    /// <summary>
    /// Alice's pulse rate: turns the span of pulses a block came from into its light time, which
    /// <see cref="ReconciliationMethod.Auto"/> weighs against Cascade's round trips. Required for Auto.
    /// </summary>
    public double? PulseRateHz { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (MeanPhotonNumbers is null || MeanPhotonNumbers.Length != Intensities.Count)
            throw new ArgumentException($"{nameof(MeanPhotonNumbers)} must have {Intensities.Count} entries (signal, decoy, vacuum).");
        if (IntensityProbabilities is null || IntensityProbabilities.Length != Intensities.Count)
            throw new ArgumentException($"{nameof(IntensityProbabilities)} must have {Intensities.Count} entries (signal, decoy, vacuum).");
        double mu1 = MeanPhotonNumbers[0], mu2 = MeanPhotonNumbers[1], mu3 = MeanPhotonNumbers[2];
        if (!(mu3 >= 0 && mu2 > mu3 && mu1 > mu2 + mu3))
            throw new ArgumentException($"Intensities must satisfy mu1 > mu2 + mu3, mu2 > mu3 >= 0; got {mu1}, {mu2}, {mu3}.");
        if (!Enum.IsDefined(FiniteKeyAnalysis))
            throw new ArgumentException($"{nameof(FiniteKeyAnalysis)} {(int)FiniteKeyAnalysis} is not one of {FiniteKeyAnalyses.Names}.");
        bool vacuumOptional = FiniteKeyAnalysis == FiniteKeyAnalysisKind.Rusca2018;
        if (Math.Abs(IntensityProbabilities.Sum() - 1) > 1e-9
            || IntensityProbabilities.Where((p, k) => !(vacuumOptional && k == (int)Intensity.Vacuum)).Any(p => !(p > 0))
            || IntensityProbabilities.Any(p => !(p >= 0)))
            throw new ArgumentException($"{nameof(IntensityProbabilities)} must be positive (the vacuum's may be 0 with the one-decoy analysis) and sum to 1; got {string.Join(", ", IntensityProbabilities)}.");
        if (BlockSizeBits < 1024)
            throw new ArgumentException($"{nameof(BlockSizeBits)} must be at least 1024, got {BlockSizeBits}.");
        if (FrameSizeBits < 1024)
            throw new ArgumentException($"{nameof(FrameSizeBits)} must be at least 1024, got {FrameSizeBits}.");
        if (MinimumFinalBlockBits < 1024 || MinimumFinalBlockBits > BlockSizeBits)
            throw new ArgumentException($"{nameof(MinimumFinalBlockBits)} must lie in [1024, {nameof(BlockSizeBits)}], got {MinimumFinalBlockBits}.");
        if (!(AbortQber > 0 && AbortQber < 0.5))
            throw new ArgumentException($"{nameof(AbortQber)} must lie in (0, 0.5), got {AbortQber}.");
        if (SiftBatchSize < 1 || SiftBatchSize > MaxSiftBatchSize)
            throw new ArgumentException($"{nameof(SiftBatchSize)} must lie in [1, {MaxSiftBatchSize}], got {SiftBatchSize}.");
        if (AmplificationSeedPartBits < 64 || AmplificationSeedPartBits % 64 != 0 || AmplificationSeedPartBits > Messages.AmplificationSeed.PartBits)
            throw new ArgumentException($"{nameof(AmplificationSeedPartBits)} must be a multiple of 64 in [64, {Messages.AmplificationSeed.PartBits}], got {AmplificationSeedPartBits}.");
        if (!Enum.IsDefined(Reconciliation))
            throw new ArgumentException($"{nameof(Reconciliation)} {Reconciliation} is not a reconciliation method.");
        if (PulseRateHz is double rate && !(rate > 0 && double.IsFinite(rate)))
            throw new ArgumentException($"{nameof(PulseRateHz)} must be positive, got {rate}.");
        if (Reconciliation == ReconciliationMethod.Auto && PulseRateHz is null)
            throw new ArgumentException($"{nameof(Reconciliation)} Auto needs {nameof(PulseRateHz)} to know a block's light time.");
        Security.Validate();
        Cascade.Validate();
        Ldpc.Validate();
    }
}
