using Qkd.Core;
using Qkd.Core.Symbols;

namespace Qkd.Calibration;

/// <summary>
/// The lab's QBER: every detection compared with what Alice sent in the same pulse, kept when the bases match
/// (sifted) and counted as an error when the bits differ, per basis. Nothing is disclosed or distilled, so every sifted
/// bit counts: the QBER an alignment or a monitor needs, not a protocol estimate.
/// </summary>
public sealed class QberTally
{
    private readonly long[] _sifted = new long[2];
    private readonly long[] _errors = new long[2];

    /// <summary>Adds Bob's <paramref name="detections"/>, compared with Alice's <paramref name="sent"/> symbols.</summary>
    public void Add(ReadOnlySpan<Detection> detections, ISymbolSource sent)
    {
        ArgumentNullException.ThrowIfNull(sent);
        foreach (ref readonly Detection d in detections)
        {
            var symbol = sent.SymbolAt(d.PulseIndex);
            if (symbol.Basis != d.Basis) continue;
            int b = (int)d.Basis;
            _sifted[b]++;
            if (symbol.Bit != d.Bit) _errors[b]++;
        }
    }

    public long Sifted(Basis basis) => _sifted[(int)basis];

    public long Errors(Basis basis) => _errors[(int)basis];

    /// <summary>Errors over sifted bits in <paramref name="basis"/>; NaN before any sifted bit.</summary>
    public double Qber(Basis basis) => _sifted[(int)basis] > 0 ? (double)_errors[(int)basis] / _sifted[(int)basis] : double.NaN;

    /// <summary>The standard uncertainty of <see cref="Qber"/>; NaN before any sifted bit (<see cref="Uncertainty(long, long)"/>).</summary>
    public double Uncertainty(Basis basis) => Uncertainty(_errors[(int)basis], _sifted[(int)basis]);

    /// <summary>
    /// The standard uncertainty of a QBER of <paramref name="errors"/> in <paramref name="sifted"/> bits: the standard
    /// deviation of its Beta(e + 1, n - e + 1) posterior (a uniform prior), sqrt(a b / ((a + b)^2 (a + b + 1))). Close to
    /// the binomial sqrt(q (1 - q) / n) for many errors, but never 0: no error in 100 bits is not a QBER known exactly.
    /// NaN without a sifted bit.
    /// </summary>
    public static double Uncertainty(long errors, long sifted)
    {
        if (sifted <= 0) return double.NaN;
        double a = errors + 1.0, b = sifted - errors + 1.0, n = a + b;
        return Math.Sqrt(a * b / (n * n * (n + 1)));
    }
}
