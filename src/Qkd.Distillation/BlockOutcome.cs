namespace Qkd.Distillation;

/// <summary>How the distillation of one block ended.</summary>
public enum BlockOutcome
{
    /// <summary>A secret key was produced and stored at both ends.</summary>
    Key,
    /// <summary>No key, but nothing suspicious: the finite-key length was zero (block too small, too lossy).</summary>
    NoKey,
    /// <summary>Security check failed (QBER above threshold, no single photons certified, verification mismatch): the link aborts.</summary>
    Aborted,
}
