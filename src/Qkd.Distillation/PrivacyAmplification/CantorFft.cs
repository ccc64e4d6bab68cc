using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Qkd.Distillation.PrivacyAmplification;

/// <summary>
/// The additive FFT over GF(2^64) in the Lin-Chung-Han "novel polynomial basis", on the subspace spanned by a Cantor
/// basis (Lin, Chung, Han, FOCS 2014; Cantor basis as in Gao-Mateer 2010 and Chen et al., "Faster multiplication for
/// long binary polynomials", 2018). It is what makes privacy amplification O(n log n) instead of O(n^1.58).
/// <para>
/// Let beta_0..beta_(m-1) be the Cantor basis, V_i = span(beta_0..beta_(i-1)) and s_i(y) the vanishing polynomial of
/// V_i. For the Cantor basis s_i(y) = sum over submasks j of i of y^(2^j): monic, binary, sparse, and s_i(beta_i) = 1,
/// so it is already normalised. The novel basis is X_k(y) = product of s_i over the set bits i of k (degree k).
/// </para>
/// <para>
/// <see cref="ToNovelBasis"/> converts monomial coefficients to novel-basis coefficients (XOR only, by repeated division
/// by the binary s_i). <see cref="Forward"/> evaluates a novel-basis polynomial of 2^m coefficients at the 2^m points
/// omega_u = sum over set bits t of u of beta_t, output in index order u. <see cref="Inverse"/> and
/// <see cref="FromNovelBasis"/> undo the two steps. A product of two polynomials whose degree sum stays below 2^m is
/// therefore ToNovel, Forward (both), pointwise product, Inverse, FromNovel.
/// </para>
/// <para>
/// Butterfly of level i (half size 2^i) on the block with index r: a' = a + c*b, b' = a' + b, where
/// c = s_i(offset of the block) = sum over set bits q of r of beta_(q+1) (using s_i(beta_t) = beta_(t-i)); remarkably
/// independent of i. Levels whose blocks exceed <see cref="LocalLog"/> are done breadth-first, the rest block by block so
/// that all their passes hit cache.
/// </para>
/// </summary>
internal static class CantorFft
{
    /// <summary>Blocks of 2^LocalLog words (512 KB) are finished level by level while they sit in L2 cache.</summary>
    private const int LocalLog = 16;

    /// <summary>Largest supported transform (2^30 words = 8 GB, far beyond the memory cap of the callers).</summary>
    public const int MaxLog = 30;

    /// <summary>
    /// Twiddles of block indices below 2^(LocalLog-1) (any block inside one local region) from two small tables, using
    /// the linearity c(r) = c(r &amp; 1023) + c(r - (r &amp; 1023)).
    /// </summary>
    private static readonly ulong[] s_twiddleLow = BuildTwiddleTable(1024, 1);
    private static readonly ulong[] s_twiddleHigh = BuildTwiddleTable(1 << Math.Max(0, LocalLog - 11), 1024);

    /// <summary>
    /// For the three lowest levels, whose blocks are narrower than a vector: lane j of the gathered "a" vector of a
    /// 16-word group (see <see cref="SmallLevelsForward"/>) lies in block (j &gt;&gt; level) of the group, so its twiddle is
    /// the group's own plus c(j &gt;&gt; level).
    /// </summary>
    private static readonly Vector512<ulong>[] s_laneOffsets =
    [
        Vector512.Create(Twiddle(0), Twiddle(1), Twiddle(2), Twiddle(3), Twiddle(4), Twiddle(5), Twiddle(6), Twiddle(7)),
        Vector512.Create(Twiddle(0), Twiddle(0), Twiddle(1), Twiddle(1), Twiddle(2), Twiddle(2), Twiddle(3), Twiddle(3)),
        Vector512.Create(Twiddle(0), Twiddle(0), Twiddle(0), Twiddle(0), Twiddle(1), Twiddle(1), Twiddle(1), Twiddle(1)),
    ];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong LocalTwiddle(int blockIndex) => s_twiddleLow[blockIndex & 1023] ^ s_twiddleHigh[blockIndex >> 10];

    /// <summary>The twiddle c(r) = sum over set bits q of r of beta_(q+1).</summary>
    public static ulong Twiddle(long blockIndex)
    {
        ReadOnlySpan<ulong> beta = BinaryField64.CantorBasis;
        ulong c = 0;
        ulong bits = (ulong)blockIndex;
        while (bits != 0)
        {
            int q = BitOperations.TrailingZeroCount(bits);
            c ^= beta[q + 1];
            bits &= bits - 1;
        }
        return c;
    }

    // The drivers below run once per transform, a handful of times per block, so tiered compilation would leave their
    // long loops in unoptimised tier-0 code (calling the small kernels without inlining) until on-stack replacement
    // steps in: a whole link's privacy amplification can be over before that. They are compiled optimised at once.

    /// <summary>Monomial to novel-basis coefficients, in place. <paramref name="nonZeroPrefix"/>: words past it are zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ToNovelBasis(Span<ulong> data, long nonZeroPrefix, FftKernel kernel)
    {
        int logSize = LogOf(data.Length);
        int localLog = Math.Min(LocalLog, logSize);
        for (int i = logSize - 1; i >= localLog; i--)
            for (long start = 0; start < data.Length; start += 2L << i)
                if (start + (1L << i) < nonZeroPrefix) DivideBySubspacePolynomial(data, start, i, kernel);
        bool grouped = localLog >= 4; // levels 3..1 go through the 16-word kernel
        for (long start = 0; start < data.Length; start += 1L << localLog)
        {
            if (start >= nonZeroPrefix) break;
            for (int i = localLog - 1; i >= (grouped ? 4 : 0); i--)
                for (long block = start; block < start + (1L << localLog); block += 2L << i)
                    DivideBySubspacePolynomial(data, block, i, kernel);
            if (grouped)
            {
                ref ulong region = ref MemoryMarshal.GetReference(data.Slice((int)start, 1 << localLog));
                for (int g = 0; g < 1 << localLog; g += 16) LowLevelsToNovel(ref Unsafe.Add(ref region, g));
            }
        }
    }

    /// <summary>Novel-basis to monomial coefficients, in place (inverse of <see cref="ToNovelBasis"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void FromNovelBasis(Span<ulong> data, FftKernel kernel)
    {
        int logSize = LogOf(data.Length);
        int localLog = Math.Min(LocalLog, logSize);
        bool grouped = localLog >= 4;
        for (long start = 0; start < data.Length; start += 1L << localLog)
        {
            if (grouped)
            {
                ref ulong region = ref MemoryMarshal.GetReference(data.Slice((int)start, 1 << localLog));
                for (int g = 0; g < 1 << localLog; g += 16) LowLevelsFromNovel(ref Unsafe.Add(ref region, g));
            }
            for (int i = grouped ? 4 : 0; i < localLog; i++)
                for (long block = start; block < start + (1L << localLog); block += 2L << i)
                    MultiplyBySubspacePolynomial(data, block, i, kernel);
        }
        for (int i = localLog; i < logSize; i++)
            for (long start = 0; start < data.Length; start += 2L << i)
                MultiplyBySubspacePolynomial(data, start, i, kernel);
    }

    /// <summary>
    /// Evaluates the novel-basis polynomial in <paramref name="data"/> at the 2^m subspace points, in place.
    /// <paramref name="nonZeroPrefix"/>: coefficients at and past it are zero (lets the first levels be copies).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(Span<ulong> data, long nonZeroPrefix, FftKernel kernel)
    {
        int logSize = LogOf(data.Length);
        int localLog = Math.Min(LocalLog, logSize);
        long extent = nonZeroPrefix; // words past the extent are still zero
        for (int i = logSize - 1; i >= localLog; i--)
        {
            long half = 1L << i;
            for (long start = 0; start < data.Length; start += 2 * half)
            {
                if (start >= extent) break;
                if (start + half >= extent)
                    data.Slice((int)start, (int)half).CopyTo(data.Slice((int)(start + half), (int)half)); // b = 0: b' = a
                else
                    ButterflyForward(data.Slice((int)start, (int)half), data.Slice((int)(start + half), (int)half),
                        Twiddle(start >> (i + 1)), kernel);
            }
            extent = Math.Min(data.Length, (extent + 2 * half - 1) / (2 * half) * (2 * half));
        }
        for (long start = 0; start < data.Length && start < extent; start += 1L << localLog)
            LocalForward(data.Slice((int)start, 1 << localLog), start >> localLog, localLog, kernel);
    }

    /// <summary>Interpolates: inverse of <see cref="Forward"/>, in place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Inverse(Span<ulong> data, FftKernel kernel)
    {
        int logSize = LogOf(data.Length);
        int localLog = Math.Min(LocalLog, logSize);
        for (long start = 0; start < data.Length; start += 1L << localLog)
            LocalInverse(data.Slice((int)start, 1 << localLog), start >> localLog, localLog, kernel);
        for (int i = localLog; i < logSize; i++)
        {
            long half = 1L << i;
            for (long start = 0; start < data.Length; start += 2 * half)
                ButterflyInverse(data.Slice((int)start, (int)half), data.Slice((int)(start + half), (int)half),
                    Twiddle(start >> (i + 1)), kernel);
        }
    }

    /// <summary>data[k] = data[k] * other[k] in GF(2^64).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PointwiseMultiply(Span<ulong> data, ReadOnlySpan<ulong> other, FftKernel kernel)
    {
        int k = 0;
        ref ulong d = ref MemoryMarshal.GetReference(data);
        ref ulong o = ref MemoryMarshal.GetReference(other);
        if (kernel == FftKernel.Avx512)
        {
            for (; k + 8 <= data.Length; k += 8)
                BinaryField64.Multiply(Vector512.LoadUnsafe(ref d, (nuint)k), Vector512.LoadUnsafe(ref o, (nuint)k))
                    .StoreUnsafe(ref d, (nuint)k);
        }
        else if (kernel == FftKernel.Avx2)
        {
            for (; k + 4 <= data.Length; k += 4)
                BinaryField64.Multiply(Vector256.LoadUnsafe(ref d, (nuint)k), Vector256.LoadUnsafe(ref o, (nuint)k))
                    .StoreUnsafe(ref d, (nuint)k);
        }
        for (; k < data.Length; k++)
            data[k] = BinaryField64.Multiply(data[k], other[k]);
    }

    private static int LogOf(int length)
    {
        if (length <= 0 || !BitOperations.IsPow2(length) || length > 1 << MaxLog)
            throw new ArgumentException($"Transform length must be a power of two up to 2^{MaxLog}, got {length}.", nameof(length));
        return BitOperations.Log2((uint)length);
    }

    /// <summary>Levels localLog-1 .. 0 inside one region of 2^localLog words whose index among regions is <paramref name="region"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void LocalForward(Span<ulong> region, long regionIndex, int localLog, FftKernel kernel)
    {
        // With AVX-512 the three narrowest levels go through the gathered small-level kernel; with AVX2 the butterfly
        // loop itself is vectorised from half size 4 up and levels 1 and 0 stay scalar.
        bool gathered = kernel == FftKernel.Avx512 && localLog >= 4;
        int lowestWide = gathered ? 3 : 0;
        for (int i = localLog - 1; i >= lowestWide; i--)
        {
            int half = 1 << i;
            ulong regionTwiddle = Twiddle(regionIndex << (localLog - 1 - i));
            for (int start = 0; start < region.Length; start += 2 * half)
                ButterflyForward(region.Slice(start, half), region.Slice(start + half, half),
                    regionTwiddle ^ LocalTwiddle(start >> (i + 1)), kernel);
        }
        if (gathered) SmallLevelsForward(region, regionIndex, localLog);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void LocalInverse(Span<ulong> region, long regionIndex, int localLog, FftKernel kernel)
    {
        bool gathered = kernel == FftKernel.Avx512 && localLog >= 4;
        int lowestWide = gathered ? 3 : 0;
        if (gathered) SmallLevelsInverse(region, regionIndex, localLog);
        for (int i = lowestWide; i < localLog; i++)
        {
            int half = 1 << i;
            ulong regionTwiddle = Twiddle(regionIndex << (localLog - 1 - i));
            for (int start = 0; start < region.Length; start += 2 * half)
                ButterflyInverse(region.Slice(start, half), region.Slice(start + half, half),
                    regionTwiddle ^ LocalTwiddle(start >> (i + 1)), kernel);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ButterflyForward(Span<ulong> a, Span<ulong> b, ulong c, FftKernel kernel)
    {
        int k = 0;
        if (c == 0)
        {
            WordOps.Xor(b, a); // a' = a, b' = a + b
            return;
        }
        ref ulong ra = ref MemoryMarshal.GetReference(a);
        ref ulong rb = ref MemoryMarshal.GetReference(b);
        if (kernel == FftKernel.Avx512)
        {
            Vector512<ulong> cv = Vector512.Create(c);
            for (; k + 8 <= a.Length; k += 8)
            {
                Vector512<ulong> va = Vector512.LoadUnsafe(ref ra, (nuint)k);
                Vector512<ulong> vb = Vector512.LoadUnsafe(ref rb, (nuint)k);
                va = BinaryField64.MultiplyAdd(va, vb, cv);
                vb ^= va;
                va.StoreUnsafe(ref ra, (nuint)k);
                vb.StoreUnsafe(ref rb, (nuint)k);
            }
        }
        else if (kernel == FftKernel.Avx2)
        {
            Vector256<ulong> cv = Vector256.Create(c);
            for (; k + 4 <= a.Length; k += 4)
            {
                Vector256<ulong> va = Vector256.LoadUnsafe(ref ra, (nuint)k);
                Vector256<ulong> vb = Vector256.LoadUnsafe(ref rb, (nuint)k);
                va ^= BinaryField64.Multiply(vb, cv);
                vb ^= va;
                va.StoreUnsafe(ref ra, (nuint)k);
                vb.StoreUnsafe(ref rb, (nuint)k);
            }
        }
        for (; k < a.Length; k++)
        {
            ulong va = a[k] ^ BinaryField64.Multiply(b[k], c);
            a[k] = va;
            b[k] ^= va;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ButterflyInverse(Span<ulong> a, Span<ulong> b, ulong c, FftKernel kernel)
    {
        int k = 0;
        if (c == 0)
        {
            WordOps.Xor(b, a);
            return;
        }
        ref ulong ra = ref MemoryMarshal.GetReference(a);
        ref ulong rb = ref MemoryMarshal.GetReference(b);
        if (kernel == FftKernel.Avx512)
        {
            Vector512<ulong> cv = Vector512.Create(c);
            for (; k + 8 <= a.Length; k += 8)
            {
                Vector512<ulong> va = Vector512.LoadUnsafe(ref ra, (nuint)k);
                Vector512<ulong> vb = Vector512.LoadUnsafe(ref rb, (nuint)k) ^ va;
                va = BinaryField64.MultiplyAdd(va, vb, cv);
                va.StoreUnsafe(ref ra, (nuint)k);
                vb.StoreUnsafe(ref rb, (nuint)k);
            }
        }
        else if (kernel == FftKernel.Avx2)
        {
            Vector256<ulong> cv = Vector256.Create(c);
            for (; k + 4 <= a.Length; k += 4)
            {
                Vector256<ulong> va = Vector256.LoadUnsafe(ref ra, (nuint)k);
                Vector256<ulong> vb = Vector256.LoadUnsafe(ref rb, (nuint)k) ^ va;
                va ^= BinaryField64.Multiply(vb, cv);
                va.StoreUnsafe(ref ra, (nuint)k);
                vb.StoreUnsafe(ref rb, (nuint)k);
            }
        }
        for (; k < a.Length; k++)
        {
            ulong vb = b[k] ^ a[k];
            b[k] = vb;
            a[k] ^= BinaryField64.Multiply(vb, c);
        }
    }

    // Levels 2, 1, 0 have blocks of 8, 4, 2 words. Each step loads a 16-word group as two vectors, gathers the 8 "a"
    // words and the 8 "b" words of the group with a two-source permute, does 8 butterflies with per-lane twiddles and
    // scatters back. Lane j of the gathered vectors belongs to block (j >> i) of the group at level i.
    private static readonly Vector512<ulong>[] s_gatherA =
    [
        Vector512.Create(0UL, 2, 4, 6, 8, 10, 12, 14),
        Vector512.Create(0UL, 1, 4, 5, 8, 9, 12, 13),
        Vector512.Create(0UL, 1, 2, 3, 8, 9, 10, 11),
    ];

    private static readonly Vector512<ulong>[] s_gatherB =
    [
        Vector512.Create(1UL, 3, 5, 7, 9, 11, 13, 15),
        Vector512.Create(2UL, 3, 6, 7, 10, 11, 14, 15),
        Vector512.Create(4UL, 5, 6, 7, 12, 13, 14, 15),
    ];

    // Inverse permutations: from (a, b) back to the two original vectors (indices >= 8 select from b).
    private static readonly Vector512<ulong>[] s_scatterLow =
    [
        Vector512.Create(0UL, 8, 1, 9, 2, 10, 3, 11),
        Vector512.Create(0UL, 1, 8, 9, 2, 3, 10, 11),
        Vector512.Create(0UL, 1, 2, 3, 8, 9, 10, 11),
    ];

    private static readonly Vector512<ulong>[] s_scatterHigh =
    [
        Vector512.Create(4UL, 12, 5, 13, 6, 14, 7, 15),
        Vector512.Create(4UL, 5, 12, 13, 6, 7, 14, 15),
        Vector512.Create(4UL, 5, 6, 7, 12, 13, 14, 15),
    ];

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SmallLevelsForward(Span<ulong> region, long regionIndex, int localLog)
    {
        ref ulong r = ref MemoryMarshal.GetReference(region);
        for (int i = 2; i >= 0; i--)
        {
            Vector512<ulong> regionTwiddle = Vector512.Create(Twiddle(regionIndex << (localLog - 1 - i)));
            Vector512<ulong> lanes = regionTwiddle ^ s_laneOffsets[i];
            int groupShift = 3 - i; // a 16-word group spans 8 >> i blocks of this level
            Vector512<ulong> gatherA = s_gatherA[i], gatherB = s_gatherB[i], scatterLow = s_scatterLow[i], scatterHigh = s_scatterHigh[i];
            for (int g = 0; g < region.Length; g += 16)
            {
                Vector512<ulong> v0 = Vector512.LoadUnsafe(ref r, (nuint)g);
                Vector512<ulong> v1 = Vector512.LoadUnsafe(ref r, (nuint)(g + 8));
                Vector512<ulong> a = Avx512F.PermuteVar8x64x2(v0, gatherA, v1);
                Vector512<ulong> b = Avx512F.PermuteVar8x64x2(v0, gatherB, v1);
                Vector512<ulong> c = lanes ^ Vector512.Create(LocalTwiddle((g >> 4) << groupShift));
                a = BinaryField64.MultiplyAdd(a, b, c);
                b ^= a;
                Avx512F.PermuteVar8x64x2(a, scatterLow, b).StoreUnsafe(ref r, (nuint)g);
                Avx512F.PermuteVar8x64x2(a, scatterHigh, b).StoreUnsafe(ref r, (nuint)(g + 8));
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SmallLevelsInverse(Span<ulong> region, long regionIndex, int localLog)
    {
        ref ulong r = ref MemoryMarshal.GetReference(region);
        for (int i = 0; i <= 2; i++)
        {
            Vector512<ulong> regionTwiddle = Vector512.Create(Twiddle(regionIndex << (localLog - 1 - i)));
            Vector512<ulong> lanes = regionTwiddle ^ s_laneOffsets[i];
            int groupShift = 3 - i;
            Vector512<ulong> gatherA = s_gatherA[i], gatherB = s_gatherB[i], scatterLow = s_scatterLow[i], scatterHigh = s_scatterHigh[i];
            for (int g = 0; g < region.Length; g += 16)
            {
                Vector512<ulong> v0 = Vector512.LoadUnsafe(ref r, (nuint)g);
                Vector512<ulong> v1 = Vector512.LoadUnsafe(ref r, (nuint)(g + 8));
                Vector512<ulong> a = Avx512F.PermuteVar8x64x2(v0, gatherA, v1);
                Vector512<ulong> b = Avx512F.PermuteVar8x64x2(v0, gatherB, v1) ^ a;
                Vector512<ulong> c = lanes ^ Vector512.Create(LocalTwiddle((g >> 4) << groupShift));
                a = BinaryField64.MultiplyAdd(a, b, c);
                Avx512F.PermuteVar8x64x2(a, scatterLow, b).StoreUnsafe(ref r, (nuint)g);
                Avx512F.PermuteVar8x64x2(a, scatterHigh, b).StoreUnsafe(ref r, (nuint)(g + 8));
            }
        }
    }

    /// <summary>Table of c(step * t) for t &lt; count.</summary>
    private static ulong[] BuildTwiddleTable(int count, long step)
    {
        var table = new ulong[count];
        for (int t = 0; t < count; t++) table[t] = Twiddle(step * t);
        return table;
    }

    /// <summary>
    /// Divides the 2^(i+1) coefficients at <paramref name="start"/> by s_i in place: quotient in the upper half,
    /// remainder in the lower. s_i has the terms y^(2^j) for the submasks j of i; the leading one is implicit. For
    /// every k from the top down, the quotient word q_k = block[half + k] (final once every higher one has been folded
    /// in) is subtracted at block[2^j + k] for each lower term.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DivideBySubspacePolynomial(Span<ulong> data, long start, int i, FftKernel kernel)
    {
        if (i == 0) return; // s_0(y) = y: the upper coefficient already is the quotient.
        int half = 1 << i;
        Span<ulong> block = data.Slice((int)start, 2 * half);
        if (kernel == FftKernel.Avx512 && i >= 4)
        {
            FoldAvx512(block, i, descending: true);
            return;
        }
        if (kernel == FftKernel.Avx2 && i >= 4)
        {
            FoldAvx2(block, i, descending: true);
            return;
        }
        for (int k = half - 1; k >= 0; k--)
        {
            ulong q = block[half + k];
            for (int j = (i - 1) & i; ; j = (j - 1) & i)
            {
                block[(1 << j) + k] ^= q;
                if (j == 0) break;
            }
        }
    }

    /// <summary>Inverse of <see cref="DivideBySubspacePolynomial"/>: block = lower + s_i * upper (same folds, k ascending).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MultiplyBySubspacePolynomial(Span<ulong> data, long start, int i, FftKernel kernel)
    {
        if (i == 0) return; // s_0(y) = y: the upper coefficient is already the coefficient of y.
        int half = 1 << i;
        Span<ulong> block = data.Slice((int)start, 2 * half);
        if (kernel == FftKernel.Avx512 && i >= 4)
        {
            FoldAvx512(block, i, descending: false);
            return;
        }
        if (kernel == FftKernel.Avx2 && i >= 4)
        {
            FoldAvx2(block, i, descending: false);
            return;
        }
        // Ascending k: block[half + k] is read before any lower-term update can reach it.
        for (int k = 0; k < half; k++)
        {
            ulong q = block[half + k];
            for (int j = (i - 1) & i; ; j = (j - 1) & i)
            {
                block[(1 << j) + k] ^= q;
                if (j == 0) break;
            }
        }
    }

    /// <summary>
    /// The folds block[2^j + k] ^= block[half + k] of one level (i &gt;= 4), eight words of k at a time. Terms with
    /// 2^j &gt;= 8 move whole vectors, which stay 64-byte aligned when the buffer is. The terms y, y^2, y^4 (j &lt;= 2)
    /// shift by less than a vector: they are merged into one aligned update of the vector at k, whose low lanes come
    /// from the quotient vector below (valignq), plus a final spill of the top quotient vector into the first quotient
    /// vector. That spill changes q_0..q_3, so the division (descending) applies it first and the multiplication
    /// (ascending) last. Valid for i &gt;= 4: every quotient vector read is final when read (all terms are at most
    /// half / 2 away), and the narrow targets of step k lie in the remainder half.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FoldAvx512(Span<ulong> block, int i, bool descending)
    {
        int half = 1 << i;
        ref ulong b = ref MemoryMarshal.GetReference(block);
        Span<int> wide = stackalloc int[16];
        int wideCount = 0;
        bool shift1 = false, shift2 = false, shift4 = false;
        for (int j = (i - 1) & i; ; j = (j - 1) & i)
        {
            if (j >= 3) wide[wideCount++] = 1 << j;
            else if (j == 2) shift4 = true;
            else if (j == 1) shift2 = true;
            else shift1 = true;
            if (j == 0) break;
        }
        wide = wide[..wideCount];

        if (descending) ApplyTopSpill(ref b, half, shift1, shift2, shift4);
        for (int step = 0; step < half; step += 8)
        {
            int k = descending ? half - 8 - step : step;
            Vector512<ulong> q = Vector512.LoadUnsafe(ref b, (nuint)(half + k));
            Vector512<ulong> below = k >= 8 ? Vector512.LoadUnsafe(ref b, (nuint)(half + k - 8)) : Vector512<ulong>.Zero;
            // Lane l of the vector at k receives q_(k + l - s): from q for l >= s, from the vector below for l < s.
            Vector512<ulong> narrow = Vector512<ulong>.Zero;
            if (shift1) narrow ^= Avx512F.AlignRight64(q, below, 7);
            if (shift2) narrow ^= Avx512F.AlignRight64(q, below, 6);
            if (shift4) narrow ^= Avx512F.AlignRight64(q, below, 4);
            (Vector512.LoadUnsafe(ref b, (nuint)k) ^ narrow).StoreUnsafe(ref b, (nuint)k);
            foreach (int offset in wide)
            {
                nuint at = (nuint)(offset + k);
                (Vector512.LoadUnsafe(ref b, at) ^ q).StoreUnsafe(ref b, at);
            }
        }
        if (!descending) ApplyTopSpill(ref b, half, shift1, shift2, shift4);
    }

    /// <summary>
    /// The folds of one level (i &gt;= 4) four words of k at a time with plain (possibly unaligned) loads: every term's
    /// distance half - 2^j is at least half / 2 &gt;= 8, so the four words of a step never depend on each other.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FoldAvx2(Span<ulong> block, int i, bool descending)
    {
        int half = 1 << i;
        ref ulong b = ref MemoryMarshal.GetReference(block);
        for (int step = 0; step < half; step += 4)
        {
            int k = descending ? half - 4 - step : step;
            Vector256<ulong> q = Vector256.LoadUnsafe(ref b, (nuint)(half + k));
            for (int j = (i - 1) & i; ; j = (j - 1) & i)
            {
                nuint at = (nuint)((1 << j) + k);
                (Vector256.LoadUnsafe(ref b, at) ^ q).StoreUnsafe(ref b, at);
                if (j == 0) break;
            }
        }
    }

    /// <summary>The narrow terms of the top quotient vector reach past the remainder into words half .. half+3.</summary>
    private static void ApplyTopSpill(ref ulong b, int half, bool shift1, bool shift2, bool shift4)
    {
        Vector512<ulong> top = Vector512.LoadUnsafe(ref b, (nuint)(2 * half - 8));
        Vector512<ulong> spill = Vector512<ulong>.Zero;
        if (shift1) spill ^= Avx512F.AlignRight64(Vector512<ulong>.Zero, top, 7);
        if (shift2) spill ^= Avx512F.AlignRight64(Vector512<ulong>.Zero, top, 6);
        if (shift4) spill ^= Avx512F.AlignRight64(Vector512<ulong>.Zero, top, 4);
        (Vector512.LoadUnsafe(ref b, (nuint)half) ^ spill).StoreUnsafe(ref b, (nuint)half);
    }

    /// <summary>
    /// Levels 3, 2, 1 of <see cref="ToNovelBasis"/> on one 16-word group (level 0 is the identity): divisions by
    /// s_3 = y^8 + y^4 + y^2 + y, s_2 = y^4 + y and s_1 = y^2 + y, spelled out.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LowLevelsToNovel(ref ulong w)
    {
        for (int k = 7; k >= 0; k--)
        {
            ulong q = Unsafe.Add(ref w, 8 + k);
            Unsafe.Add(ref w, 4 + k) ^= q;
            Unsafe.Add(ref w, 2 + k) ^= q;
            Unsafe.Add(ref w, 1 + k) ^= q;
        }
        for (int b = 0; b < 16; b += 8)
            for (int k = 3; k >= 0; k--)
                Unsafe.Add(ref w, b + 1 + k) ^= Unsafe.Add(ref w, b + 4 + k);
        for (int b = 0; b < 16; b += 4)
        {
            Unsafe.Add(ref w, b + 2) ^= Unsafe.Add(ref w, b + 3);
            Unsafe.Add(ref w, b + 1) ^= Unsafe.Add(ref w, b + 2);
        }
    }

    /// <summary>Inverse of <see cref="LowLevelsToNovel"/>: levels 1, 2, 3 in that order, k ascending.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LowLevelsFromNovel(ref ulong w)
    {
        for (int b = 0; b < 16; b += 4)
        {
            Unsafe.Add(ref w, b + 1) ^= Unsafe.Add(ref w, b + 2);
            Unsafe.Add(ref w, b + 2) ^= Unsafe.Add(ref w, b + 3);
        }
        for (int b = 0; b < 16; b += 8)
            for (int k = 0; k < 4; k++)
                Unsafe.Add(ref w, b + 1 + k) ^= Unsafe.Add(ref w, b + 4 + k);
        for (int k = 0; k < 8; k++)
        {
            ulong q = Unsafe.Add(ref w, 8 + k);
            Unsafe.Add(ref w, 4 + k) ^= q;
            Unsafe.Add(ref w, 2 + k) ^= q;
            Unsafe.Add(ref w, 1 + k) ^= q;
        }
    }
}
