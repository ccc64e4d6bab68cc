using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Qkd.Distillation.PrivacyAmplification;

/// <summary>
/// Arithmetic in GF(2^64) = GF(2)[x] / (x^64 + x^4 + x^3 + x + 1), the field over which <see cref="CantorFft"/>
/// evaluates binary polynomials. An element is a ulong whose bit i is the coefficient of x^i, so addition is XOR.
/// Also provides a Cantor basis of the field, the basis that makes the additive FFT's vanishing polynomials sparse
/// with binary coefficients.
/// </summary>
internal static class BinaryField64
{
    /// <summary>x^64 mod the field polynomial: x^4 + x^3 + x + 1.</summary>
    public const ulong ReductionTail = 0b11011;

    /// <summary>How many Cantor basis elements are precomputed; transforms up to 2^CantorDimension points.</summary>
    public const int CantorDimension = 40;

    /// <summary>
    /// beta_0 = 1, beta_i^2 + beta_i = beta_(i-1). With this basis the subspace vanishing polynomial of
    /// span(beta_0..beta_(i-1)) is s_i(y) = sum over j submask of i of y^(2^j), and s_i(beta_t) = beta_(t-i).
    /// </summary>
    public static ReadOnlySpan<ulong> CantorBasis => s_cantorBasis;

    private static readonly ulong[] s_cantorBasis = ComputeCantorBasis(CantorDimension);

    /// <summary>Field product.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Multiply(ulong a, ulong b)
    {
        ulong lo = CarrylessMultiply.Multiply(a, b, out ulong hi);
        return Reduce(lo, hi);
    }

    /// <summary>Reduces the 128-bit carry-less product hi*x^64 + lo modulo the field polynomial.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Reduce(ulong lo, ulong hi)
    {
        // hi * x^64 = hi * g, g = x^4 + x^3 + x + 1. The bits hi * g pushes past x^63 are hi >> 63, >> 61, >> 60;
        // folding them into hi first lets a single multiplication by g (four shifted copies) finish, because their own
        // product with g stays below x^8.
        ulong t = hi ^ (hi >> 60) ^ (hi >> 61) ^ (hi >> 63);
        return lo ^ t ^ (t << 1) ^ (t << 3) ^ (t << 4);
    }

    /// <summary>Eight field products at once (lane i: a[i] * b[i]); needs <see cref="Pclmulqdq.V512"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<ulong> Multiply(Vector512<ulong> a, Vector512<ulong> b) => MultiplyAdd(Vector512<ulong>.Zero, a, b);

    /// <summary>
    /// acc + a*b lane by lane (the FFT butterfly's a + c*b), with the reduction folded into the additions; needs
    /// <see cref="Pclmulqdq.V512"/> and AVX-512F.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<ulong> MultiplyAdd(Vector512<ulong> acc, Vector512<ulong> a, Vector512<ulong> b)
    {
        // Each 128-bit lane holds two elements; multiply the even ones and the odd ones separately, then regroup the
        // 128-bit products into a vector of low halves and a vector of high halves.
        Vector512<ulong> even = Pclmulqdq.V512.CarrylessMultiply(a, b, 0x00);
        Vector512<ulong> odd = Pclmulqdq.V512.CarrylessMultiply(a, b, 0x11);
        Vector512<ulong> lo = Avx512F.UnpackLow(even, odd);
        Vector512<ulong> hi = Avx512F.UnpackHigh(even, odd);
        // hi * x^64 = hi * g with g = x^4 + x^3 + x + 1. The bits that hi * g pushes past x^63 are the top bits of hi
        // shifted down (hi >> 63, >> 61, >> 60); folding them into hi first makes one multiplication by g (four shifted
        // copies) finish the reduction, since their own product with g stays below x^8. 0x96 is three-way XOR.
        Vector512<ulong> t = Avx512F.TernaryLogic(hi, hi >>> 60, hi >>> 61, 0x96) ^ (hi >>> 63);
        Vector512<ulong> sum = Avx512F.TernaryLogic(acc, lo, t, 0x96);
        return Avx512F.TernaryLogic(sum, t << 1, t << 3, 0x96) ^ (t << 4);
    }

    /// <summary>Four field products at once; needs <see cref="Pclmulqdq.V256"/> and AVX2.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<ulong> Multiply(Vector256<ulong> a, Vector256<ulong> b)
    {
        Vector256<ulong> even = Pclmulqdq.V256.CarrylessMultiply(a, b, 0x00);
        Vector256<ulong> odd = Pclmulqdq.V256.CarrylessMultiply(a, b, 0x11);
        Vector256<ulong> lo = Avx2.UnpackLow(even, odd);
        Vector256<ulong> hi = Avx2.UnpackHigh(even, odd);
        Vector256<ulong> t = hi ^ (hi >>> 60) ^ (hi >>> 61) ^ (hi >>> 63);
        return lo ^ t ^ (t << 1) ^ (t << 3) ^ (t << 4);
    }

    /// <summary>a^2, a linear map over GF(2) (used to set up the Cantor basis).</summary>
    public static ulong Square(ulong a) => Multiply(a, a);

    /// <summary>
    /// Builds beta_0..beta_(count-1) by solving beta^2 + beta = beta_(i-1) each step. The map y -> y^2 + y is GF(2)-linear
    /// with kernel {0, 1}; the equation is solvable exactly when the right side has trace zero, which holds for the whole
    /// chain because the field degree 64 is a power of two. Either root works; the transform results do not depend on
    /// which one is taken.
    /// </summary>
    private static ulong[] ComputeCantorBasis(int count)
    {
        var solver = new ArtinSchreierSolver();
        var basis = new ulong[count];
        basis[0] = 1;
        for (int i = 1; i < count; i++)
        {
            if (!solver.TrySolve(basis[i - 1], out basis[i]))
                throw new InvalidOperationException($"No Cantor basis element {i} exists in GF(2^64): the field polynomial is not the expected one.");
        }
        return basis;
    }

    /// <summary>Solves y^2 + y = c over GF(2) by Gaussian elimination on the 64 x 64 matrix of the linear map.</summary>
    private sealed class ArtinSchreierSolver
    {
        // Echelon form: for each pivot bit p, a vector with leading bit p and the combination of unknowns producing it.
        private readonly ulong[] _pivotVector = new ulong[64];
        private readonly ulong[] _pivotCombination = new ulong[64];
        private readonly bool[] _hasPivot = new bool[64];

        public ArtinSchreierSolver()
        {
            for (int j = 0; j < 64; j++)
            {
                ulong basisElement = 1UL << j;
                ulong image = Square(basisElement) ^ basisElement;
                ulong combination = basisElement;
                while (image != 0)
                {
                    int p = 63 - BitOperations.LeadingZeroCount(image);
                    if (!_hasPivot[p])
                    {
                        _hasPivot[p] = true;
                        _pivotVector[p] = image;
                        _pivotCombination[p] = combination;
                        break;
                    }
                    image ^= _pivotVector[p];
                    combination ^= _pivotCombination[p];
                }
            }
        }

        public bool TrySolve(ulong c, out ulong solution)
        {
            solution = 0;
            while (c != 0)
            {
                int p = 63 - BitOperations.LeadingZeroCount(c);
                if (!_hasPivot[p]) return false;
                c ^= _pivotVector[p];
                solution ^= _pivotCombination[p];
            }
            return true;
        }
    }
}
