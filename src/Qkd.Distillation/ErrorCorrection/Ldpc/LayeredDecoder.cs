using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Qkd.Distillation.ErrorCorrection.Ldpc;

/// <summary>
/// Syndrome decoding of a <see cref="QuasiCyclicCode"/> by layered belief propagation in the log domain
/// (Hocevar 2004): the base rows are the layers, and a layer's z checks touch z distinct variables per circulant, so
/// they are updated together, <see cref="Vector{T}"/> lanes at a time. The check rule is the exact sum-product
/// (tanh) rule in product form: t = tanh(|T|/2) per edge (one exp), the extrinsic product of each edge from forward
/// and backward partial products (no division, so t = 0 needs no care), and the message 2 atanh of it (one log), with
/// the target syndrome bit folded into each check's sign. That is one exp and one log per edge where the sum of
/// phi(x) = -ln tanh(x/2) took two of each (the former decoder, kept as tests/Shared/Reference/ReferenceLayeredDecoder;
/// LdpcDecoderBenchmarks gives the ratio). Normalised min-sum (scaling 0.65-0.94) and lambda-min (3) were tried: on this
/// family they need f 0.05-0.25 higher at 3-8 % (the punctured variables start at LLR 0, which min-sum handles
/// badly), so the exact rule stays. Every buffer is allocated once per decoder; decoding
/// allocates nothing. Not thread-safe: one decoder per thread.
/// </summary>
public sealed class LayeredDecoder
{
    private const float MaxMagnitude = 60f;
    // The largest extrinsic product used, 1 - 2^-23 (whose 2 atanh is 16.6): the next float up is 1, whose atanh is infinite.
    private const float MaxProduct = 1f - 1f / (1 << 23);

    private readonly QuasiCyclicCode _code;
    private readonly float[] _posterior;     // L: one per variable
    private readonly float[] _checkMessages; // R: one per edge, entry-major (z per base entry)
    private readonly float[] _incoming;      // T = L - R of the layer being updated, z per entry of the row
    private readonly float[] _tanh;          // tanh(|T| / 2) of the layer being updated
    private readonly float[] _prefix;        // products of the tanh before each entry, one vector column at a time
    private readonly uint[] _syndromeSign;   // 0 or the float sign bit, per check
    private readonly byte[] _hard;
    private readonly byte[] _check;

    public LayeredDecoder(QuasiCyclicCode code)
    {
        ArgumentNullException.ThrowIfNull(code);
        if (code.CirculantSize % Vector<float>.Count != 0)
            throw new ArgumentException($"Circulants of {code.CirculantSize} are not a multiple of the vector width {Vector<float>.Count}.", nameof(code));
        _code = code;
        _posterior = new float[code.Length];
        _checkMessages = new float[code.BaseEdges * code.CirculantSize];
        _incoming = new float[code.MaxRowWeight * code.CirculantSize];
        _tanh = new float[code.MaxRowWeight * code.CirculantSize];
        _prefix = new float[code.MaxRowWeight * Vector<float>.Count];
        _syndromeSign = new uint[code.Checks];
        _hard = new byte[code.Length];
        _check = new byte[code.Checks];
    }

    public QuasiCyclicCode Code => _code;

    /// <summary>
    /// The a-priori log-likelihood ratio ln P(0)/P(1) of each variable, to fill before <see cref="Decode"/>: Bob's bit
    /// through the BSC, 0 for a punctured variable, a large value of the known sign for a shortened one.
    /// </summary>
    public Span<float> Prior => _posterior;

    /// <summary>
    /// Runs up to <paramref name="maxIterations"/> layered iterations towards a word whose syndrome is
    /// <paramref name="syndrome"/> (one byte, 0 or 1, per check), starting from <see cref="Prior"/>. Returns the
    /// iterations used, or -1 when the syndrome was not reached. The decision is then in <see cref="HardDecision"/>.
    /// </summary>
    public int Decode(ReadOnlySpan<byte> syndrome, int maxIterations)
    {
        if (syndrome.Length != _code.Checks) throw new ArgumentException($"{syndrome.Length} syndrome bits for {_code.Checks} checks.", nameof(syndrome));
        for (int i = 0; i < syndrome.Length; i++) _syndromeSign[i] = (uint)syndrome[i] << 31;
        Array.Clear(_checkMessages);
        for (int i = 0; i < _posterior.Length; i++)
            _posterior[i] = Math.Clamp(_posterior[i], -MaxMagnitude, MaxMagnitude);
        if (Satisfied(syndrome)) return 0;
        for (int iteration = 1; iteration <= maxIterations; iteration++)
        {
            // Each layer reports whether its checks were met by the posteriors it wrote; only an iteration in which
            // every layer was pays for the full syndrome (later layers may have flipped bits of earlier ones).
            var unmet = Vector<uint>.Zero;
            for (int r = 0; r < _code.BaseRows; r++) unmet |= UpdateLayer(r);
            if (unmet == Vector<uint>.Zero && Satisfied(syndrome)) return iteration;
        }
        return -1;
    }

    /// <summary>Clears every buffer that holds values derived from Bob's bits.</summary>
    public void Clear()
    {
        Array.Clear(_posterior);
        Array.Clear(_checkMessages);
        Array.Clear(_incoming);
        Array.Clear(_tanh);
        Array.Clear(_prefix);
        Array.Clear(_hard);
        Array.Clear(_check);
    }

    /// <summary>The decided word: one byte (0 or 1) per variable, from the signs of the posterior.</summary>
    public ReadOnlySpan<byte> HardDecision => _hard;

    private bool Satisfied(ReadOnlySpan<byte> syndrome)
    {
        var posterior = MemoryMarshal.Cast<float, uint>(_posterior.AsSpan());
        for (int i = 0; i < posterior.Length; i++) _hard[i] = (byte)(posterior[i] >> 31);
        _code.Syndrome(_hard, _check);
        return _check.AsSpan().SequenceEqual(syndrome);
    }

    /// <summary>Updates base row <paramref name="r"/>: its checks together; returns a non-zero vector when one of them is not met by the new posteriors.</summary>
    private Vector<uint> UpdateLayer(int r)
    {
        int z = _code.CirculantSize;
        int first = _code.RowEntryStart(r), weight = _code.RowEntryEnd(r) - first;
        var posterior = _posterior.AsSpan();
        // Gather: T_k = L(variables of entry k, in check order) - R_k.
        for (int k = 0; k < weight; k++)
        {
            int e = first + k, s = _code.EntryShift(e);
            var block = posterior.Slice(_code.EntryColumn(e) * z, z);
            var t = _incoming.AsSpan(k * z, z);
            block[s..].CopyTo(t);
            block[..s].CopyTo(t[(z - s)..]);
            var tv = MemoryMarshal.Cast<float, Vector<float>>(t);
            var rv = MemoryMarshal.Cast<float, Vector<float>>(_checkMessages.AsSpan(e * z, z));
            for (int i = 0; i < tv.Length; i++) tv[i] -= rv[i];
        }

        var signMask = new Vector<uint>(0x8000_0000u);
        var magnitudeMask = new Vector<uint>(0x7FFF_FFFFu);
        var maxMagnitude = new Vector<float>(MaxMagnitude);
        var maxProduct = new Vector<float>(MaxProduct);
        var incoming = MemoryMarshal.Cast<float, Vector<float>>(_incoming.AsSpan(0, weight * z));
        var tanh = MemoryMarshal.Cast<float, Vector<float>>(_tanh.AsSpan(0, weight * z));
        var prefix = MemoryMarshal.Cast<float, Vector<float>>(_prefix.AsSpan());
        var messages = MemoryMarshal.Cast<float, Vector<float>>(_checkMessages.AsSpan(first * z, weight * z));
        var syndromeSign = MemoryMarshal.Cast<uint, Vector<uint>>(_syndromeSign.AsSpan(r * z, z));
        int lanesPerEntry = z / Vector<float>.Count;
        var unmet = Vector<uint>.Zero;
        for (int j = 0; j < lanesPerEntry; j++)
        {
            Vector<uint> parity = syndromeSign[j];
            Vector<uint> sign = syndromeSign[j];
            // Forward: t_k = tanh(|T_k| / 2) and the products of the t before k.
            Vector<float> product = Vector<float>.One;
            for (int k = 0, at = j; k < weight; k++, at += lanesPerEntry)
            {
                Vector<uint> bits = Vector.AsVectorUInt32(incoming[at]);
                sign ^= bits & signMask;
                var t = TanhHalf(Vector.Min(Vector.AsVectorSingle(bits & magnitudeMask), maxMagnitude));
                tanh[at] = t;
                prefix[k] = product;
                product *= t;
            }
            // Backward: the extrinsic product of edge k is the products before and after it (no division, so a
            // t of 0, a punctured variable's first message, costs nothing special); its message 2 atanh of that.
            Vector<float> suffix = Vector<float>.One;
            for (int k = weight - 1, at = j + k * lanesPerEntry; k >= 0; k--, at -= lanesPerEntry)
            {
                Vector<float> t = incoming[at];
                var extrinsic = Vector.Min(prefix[k] * suffix, maxProduct);
                suffix *= tanh[at];
                var magnitude = TwoAtanh(extrinsic);
                Vector<uint> outSign = (sign ^ Vector.AsVectorUInt32(t)) & signMask;
                var message = Vector.AsVectorSingle(Vector.AsVectorUInt32(magnitude) | outSign);
                messages[at] = message;
                var updated = t + message;
                incoming[at] = updated;
                parity ^= Vector.AsVectorUInt32(updated);
            }
            unmet |= parity & signMask;
        }

        // Scatter: the new posteriors back to their variables.
        for (int k = 0; k < weight; k++)
        {
            int e = first + k, s = _code.EntryShift(e);
            var block = posterior.Slice(_code.EntryColumn(e) * z, z);
            var t = _incoming.AsSpan(k * z, z);
            t[..(z - s)].CopyTo(block[s..]);
            t[(z - s)..].CopyTo(block[..s]);
        }
        return unmet;
    }

    /// <summary>tanh(x / 2) = (1 - e^-x) / (1 + e^-x) for x in [0, MaxMagnitude], by the decoder's own exp.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector<float> TanhHalf(Vector<float> x)
    {
        var e = ExpNegative(x);
        return (Vector<float>.One - e) / (Vector<float>.One + e);
    }

    /// <summary>
    /// 2 atanh(p) = ln((1 + p) / (1 - p)) for p in [0, <see cref="MaxProduct"/>], by the decoder's own log: at most
    /// about 16.6, the largest check message float products can express.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector<float> TwoAtanh(Vector<float> p) => LogAboveOne((Vector<float>.One + p) / (Vector<float>.One - p));

    /// <summary>e^-x for x in [0, 87]: 2^(-x log2 e) split into 2^n (the exponent bits) times 2^f by a polynomial.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> ExpNegative(Vector<float> x)
    {
        var y = Vector.Max(x * new Vector<float>(-1.442695041f), new Vector<float>(-126f));
        var n = Vector.Floor(y);
        var f = y - n; // [0, 1)
        // 2^f on [0, 1), degree 5 (Taylor in f ln 2 with the last terms tuned): relative error < 2e-7.
        var p = new Vector<float>(1.8775767e-3f);
        p = p * f + new Vector<float>(8.9893397e-3f);
        p = p * f + new Vector<float>(5.5826318e-2f);
        p = p * f + new Vector<float>(2.4015361e-1f);
        p = p * f + new Vector<float>(6.9315308e-1f);
        p = p * f + Vector<float>.One;
        var exponent = (Vector.ConvertToInt32(n) + new Vector<int>(127)) << 23;
        return p * Vector.AsVectorSingle(exponent);
    }

    /// <summary>ln v for v &gt;= 1 (finite): the exponent times ln 2, plus ln m of the mantissa m in [1, 2) as 2 atanh((m - 1)/(m + 1)).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> LogAboveOne(Vector<float> v)
    {
        var bits = Vector.AsVectorInt32(v);
        var exponent = Vector.ConvertToSingle((bits >> 23) - new Vector<int>(127));
        var m = Vector.AsVectorSingle((bits & new Vector<int>(0x007F_FFFF)) | new Vector<int>(0x3F80_0000));
        var s = (m - Vector<float>.One) / (m + Vector<float>.One); // [0, 1/3)
        var s2 = s * s;
        // 2 atanh(s) = 2 (s + s^3/3 + s^5/5 + ...): six terms leave s^13/13 < 1e-7 relative.
        var p = new Vector<float>(2f / 11);
        p = p * s2 + new Vector<float>(2f / 9);
        p = p * s2 + new Vector<float>(2f / 7);
        p = p * s2 + new Vector<float>(2f / 5);
        p = p * s2 + new Vector<float>(2f / 3);
        p = p * s2 + new Vector<float>(2f);
        return exponent * new Vector<float>(0.6931471806f) + p * s;
    }
}
