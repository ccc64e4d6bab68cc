namespace Qkd.Core;

/// <summary>
/// The three intensity classes of the decoy-state protocol (Lim et al. 2014 use mu1 &gt; mu2 + mu3, mu2 &gt; mu3 &gt;= 0).
/// Numeric values index per-intensity arrays, so keep them 0, 1, 2.
/// </summary>
public enum Intensity : byte
{
    Signal = 0,
    Decoy = 1,
    Vacuum = 2,
}

public static class Intensities
{
    /// <summary>Number of intensity classes; the length of every per-intensity array.</summary>
    public const int Count = 3;

    public static readonly Intensity[] All = [Intensity.Signal, Intensity.Decoy, Intensity.Vacuum];
}
