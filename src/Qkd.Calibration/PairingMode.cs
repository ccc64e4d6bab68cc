namespace Qkd.Calibration;

/// <summary>Which (start, stop) pairs a time-difference histogram counts.</summary>
public enum PairingMode
{
    /// <summary>
    /// Classic start-stop (TCSPC): each stop pairs with the latest start at or before it. Every such pair lands in a
    /// bin, below the range or above it, so bins + below + above = pairs.
    /// </summary>
    NearestStart,

    /// <summary>
    /// Correlation: every start within [min, max] of a stop, before or after it (negative differences allowed). Pairs
    /// outside the range are not enumerated, so every counted pair is in a bin.
    /// </summary>
    AllPairs,
}
