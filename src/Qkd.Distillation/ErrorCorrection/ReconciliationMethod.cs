namespace Qkd.Distillation.ErrorCorrection;

/// <summary>How a link corrects errors: its setting, and what a block used.</summary>
public enum ReconciliationMethod
{
    /// <summary>Interactive Cascade: the least leakage at low QBER, but about a thousand round trips per block.</summary>
    Cascade,
    /// <summary>Rate-adaptive LDPC: one message each way per block (plus a few blind rounds), whatever the latency.</summary>
    Ldpc,
    /// <summary>Per block, from the measured round trip (<see cref="ReconciliationChoice"/>).</summary>
    Auto,
}
