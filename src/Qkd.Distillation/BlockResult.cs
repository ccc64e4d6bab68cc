using Qkd.Distillation.ParameterEstimation;

namespace Qkd.Distillation;

/// <summary>Everything measured while distilling one block. Contains no key material.</summary>
public sealed record BlockResult
{
    public required long BlockId { get; init; }
    public required BlockOutcome Outcome { get; init; }
    /// <summary>Why no key was produced, in words an operator understands; null when a key was produced.</summary>
    public string? Reason { get; init; }

    public required long SiftedZ { get; init; }
    public required long SiftedX { get; init; }
    public required long[] SiftedZPerIntensity { get; init; }
    public required long[] SiftedXPerIntensity { get; init; }
    public required long[] ErrorsXPerIntensity { get; init; }
    /// <summary>Z-basis errors found by error correction per intensity (null if correction did not run).</summary>
    public long[]? ErrorsZPerIntensity { get; init; }

    public double QberX => SiftedX == 0 ? double.NaN : (double)ErrorsXPerIntensity.Sum() / SiftedX;
    public double QberZ => ErrorsZPerIntensity is null || SiftedZ == 0 ? double.NaN : (double)ErrorsZPerIntensity.Sum() / SiftedZ;

    public DecoyStateBounds? Bounds { get; init; }
    public double QberEstimateUsedForCorrection { get; init; } = double.NaN;
    public long LeakedErrorCorrectionBits { get; init; }
    /// <summary>Error-correction round trips of the block: all frames are corrected together, one message pair per round.</summary>
    public int ErrorCorrectionRounds { get; init; }
    /// <summary>Rounds the frames needed each on its own, added up (what the block cost when frames went one after the other).</summary>
    public int ErrorCorrectionFrameRounds { get; init; }
    public int ErrorCorrectionFrames { get; init; }
    /// <summary>The method that corrected the block (Cascade or Ldpc; Cascade when correction did not run).</summary>
    public ErrorCorrection.ReconciliationMethod Reconciliation { get; init; }
    /// <summary>LDPC: frames the first syndrome did not decode, each then corrected by blind rounds (never dropped).</summary>
    public int ErrorCorrectionDecodeFailures { get; init; }
    /// <summary>LDPC: bits revealed by blind rounds (part of <see cref="LeakedErrorCorrectionBits"/>).</summary>
    public long ErrorCorrectionRevealedBits { get; init; }
    /// <summary>Wall time Bob spent waiting for Alice's error-correction replies (network and her work), seconds.</summary>
    public double ErrorCorrectionWaitSeconds { get; init; }
    /// <summary>The channel round trip Bob measured when he chose the method (null before any exchange), seconds.</summary>
    public double? RoundTripSeconds { get; init; }
    /// <summary>The block's light time: the span of pulses its key bits came from over the pulse rate (NaN without a pulse rate), seconds.</summary>
    public double LightSeconds { get; init; } = double.NaN;
    /// <summary>Alice's index of the first pulse the block's key bits may come from (the pulse after the previous block's last), -1 when unknown.</summary>
    public long FirstPulse { get; init; } = -1;
    /// <summary>Alice's index of the pulse of the block's last key bit, -1 when unknown.</summary>
    public long LastPulse { get; init; } = -1;
    /// <summary>f = leaked / (n h2(QBER_Z)); NaN when correction did not run or QBER was zero.</summary>
    public double ErrorCorrectionEfficiency { get; init; } = double.NaN;
    public bool? VerificationPassed { get; init; }
    public int VerificationTagBits { get; init; }
    public KeyLength? KeyLength { get; init; }
    public long SecretBits { get; init; }
    /// <summary>The block would have yielded key but it was withheld at both ends (<see cref="BobDistiller.KeyHold"/>: a link alarm).</summary>
    public bool KeyWithheld { get; init; }
}
