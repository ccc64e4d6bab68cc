namespace Qkd.Monitoring;

/// <summary>
/// Page's cumulative sum (E. S. Page, "Continuous inspection schemes", Biometrika 41, 100-115, 1954), two-sided, on a
/// standardised statistic z = (x - mu0) / sigma: S+ = max(0, S+ + z - k), S- = max(0, S- - z - k). A side signals when
/// its sum exceeds the decision interval h. k (the drift, or reference value) is half the shift, in sigmas, the chart is
/// tuned to find fastest; h sets the false-alarm rate. For standard normal z the in-control average run length of one
/// side is about (e^(2k b) - 2k b - 1) / (2k^2) with b = h + 1.166 (Siegmund 1985, Sequential Analysis, Eq. 2.56), and
/// a shift of d sigmas (d &gt; k) is found after about b / (d - k) samples.
/// </summary>
public sealed class Cusum
{
    public Cusum(double drift, double decision)
    {
        if (!(drift >= 0 && double.IsFinite(drift))) throw new ArgumentOutOfRangeException(nameof(drift), drift, "The drift k must be a finite number >= 0.");
        if (!(decision > 0 && double.IsFinite(decision))) throw new ArgumentOutOfRangeException(nameof(decision), decision, "The decision interval h must be a finite number > 0.");
        Drift = drift;
        Decision = decision;
    }

    /// <summary>k, in sigmas.</summary>
    public double Drift { get; }

    /// <summary>h, in sigmas.</summary>
    public double Decision { get; }

    /// <summary>S+: evidence that the statistic rose.</summary>
    public double Upper { get; private set; }

    /// <summary>S-: evidence that it fell.</summary>
    public double Lower { get; private set; }

    public bool UpperSignals => Upper > Decision;

    public bool LowerSignals => Lower > Decision;

    /// <summary>Adds one standardised sample; a non-finite one is ignored (returns false).</summary>
    public bool Add(double z)
    {
        if (!double.IsFinite(z)) return false;
        Upper = Math.Max(0, Upper + z - Drift);
        Lower = Math.Max(0, Lower - z - Drift);
        return true;
    }

    public void ResetUpper() => Upper = 0;

    public void ResetLower() => Lower = 0;

    public void Reset() => (Upper, Lower) = (0, 0);

    /// <summary>Siegmund's approximation of one side's in-control average run length (samples between false signals).</summary>
    public static double InControlRunLength(double drift, double decision)
    {
        double b = decision + 1.166;
        if (drift == 0) return b * b;
        double a = 2 * drift * b;
        return (Math.Exp(a) - a - 1) / (2 * drift * drift);
    }
}
