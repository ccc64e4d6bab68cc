namespace Qkd.Distillation.ErrorCorrection.Ldpc;

/// <summary>Outcome of LDPC reconciliation of a block's frames.</summary>
/// <param name="Frames">Frames reconciled.</param>
/// <param name="LeakedBits">Syndrome bits less punctured bits, plus every bit revealed by blind rounds, over all frames.</param>
/// <param name="Rounds">Message pairs (round trips) of the whole block: 1 for the syndromes, plus one per blind round.</param>
/// <param name="FramesFailedFirstAttempt">Frames the first syndrome did not decode (each took blind rounds).</param>
/// <param name="RevealedBits">Bits revealed by blind rounds (included in <paramref name="LeakedBits"/>).</param>
/// <param name="Iterations">Layered iterations over all frames and attempts.</param>
public sealed record LdpcReconciliationResult(int Frames, long LeakedBits, int Rounds, int FramesFailedFirstAttempt, long RevealedBits, long Iterations);
