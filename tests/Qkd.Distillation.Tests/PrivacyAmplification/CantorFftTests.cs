using System.Numerics;
using CsCheck;
using Qkd.Distillation.PrivacyAmplification;

namespace Qkd.Distillation.Tests.PrivacyAmplification;

public class CantorFftTests
{
    [Fact]
    public void Field_polynomial_is_irreducible()
    {
        // f = x^64 + x^4 + x^3 + x + 1 is irreducible iff x^(2^64) = x mod f and gcd(x^(2^32) - x, f) = 1
        // (Rabin's test; 32 is the only maximal proper divisor of 64).
        ulong x = 2;
        ulong power = x;
        for (int i = 0; i < 32; i++) power = BinaryField64.Square(power);
        ulong x2To32 = power;
        for (int i = 0; i < 32; i++) power = BinaryField64.Square(power);
        Assert.Equal(x, power);
        Assert.Equal(1UL, GcdWithFieldPolynomial(x2To32 ^ x));
    }

    [Fact]
    public void Cantor_basis_satisfies_its_defining_relation_and_is_independent()
    {
        ReadOnlySpan<ulong> beta = BinaryField64.CantorBasis;
        Assert.Equal(1UL, beta[0]);
        for (int i = 1; i < beta.Length; i++)
            Assert.Equal(beta[i - 1], BinaryField64.Square(beta[i]) ^ beta[i]);
        // Linear independence over GF(2): Gaussian elimination keeps every vector.
        var pivots = new ulong[64];
        foreach (ulong b in beta)
        {
            ulong v = b;
            while (v != 0 && pivots[63 - BitOperations.LeadingZeroCount(v)] != 0)
                v ^= pivots[63 - BitOperations.LeadingZeroCount(v)];
            Assert.NotEqual(0UL, v);
            pivots[63 - BitOperations.LeadingZeroCount(v)] = v;
        }
    }

    // Kernels travel as names: the enum is internal and xUnit theories must be public.
    public static TheoryData<string> Kernels() => new(FftKernels.Supported.Select(k => k.ToString()));

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Field_multiplication_kernels_match_the_scalar_product(string kernelName)
    {
        var kernel = Enum.Parse<FftKernel>(kernelName);
        Gen.Select(Gen.ULong.Array[19], Gen.ULong.Array[19]).Sample((a, b) =>
        {
            var data = (ulong[])a.Clone();
            CantorFft.PointwiseMultiply(data, b, kernel);
            for (int i = 0; i < a.Length; i++)
                if (data[i] != BinaryField64.Multiply(a[i], b[i])) return false;
            return true;
        });
    }

    [Fact]
    public void Field_multiplication_is_commutative_associative_and_distributive()
    {
        Gen.Select(Gen.ULong, Gen.ULong, Gen.ULong).Sample((a, b, c) =>
            BinaryField64.Multiply(a, b) == BinaryField64.Multiply(b, a)
            && BinaryField64.Multiply(BinaryField64.Multiply(a, b), c) == BinaryField64.Multiply(a, BinaryField64.Multiply(b, c))
            && BinaryField64.Multiply(a, b ^ c) == (BinaryField64.Multiply(a, b) ^ BinaryField64.Multiply(a, c)), iter: 500);
    }

    public static TheoryData<int, string> SmallSizesAndKernels()
    {
        var data = new TheoryData<int, string>();
        foreach (FftKernel kernel in FftKernels.Supported)
            foreach (int logSize in new[] { 2, 4, 6, 7 })
                data.Add(logSize, kernel.ToString());
        return data;
    }

    [Theory]
    [MemberData(nameof(SmallSizesAndKernels))]
    public void Forward_transform_evaluates_the_polynomial_at_the_subspace_points(int logSize, string kernelName)
    {
        var kernel = Enum.Parse<FftKernel>(kernelName);
        int size = 1 << logSize;
        ulong[] coefficients = RandomWords.Words(size, (ulong)logSize);
        var data = (ulong[])coefficients.Clone();
        CantorFft.ToNovelBasis(data, size, kernel);
        CantorFft.Forward(data, size, kernel);

        ReadOnlySpan<ulong> beta = BinaryField64.CantorBasis;
        for (int u = 0; u < size; u++)
        {
            ulong point = 0;
            for (int t = 0; t < logSize; t++)
                if (((u >> t) & 1) != 0) point ^= beta[t];
            ulong value = 0;
            for (int k = size - 1; k >= 0; k--) value = BinaryField64.Multiply(value, point) ^ coefficients[k];
            Assert.Equal(value, data[u]);
        }
    }

    [Theory]
    [InlineData(4)]
    [InlineData(10)]
    [InlineData(15)]
    [InlineData(17)]
    public void Transforms_invert_each_other_in_both_kernels(int logSize)
    {
        ulong[] original = RandomWords.Words(1 << logSize, (ulong)logSize * 31);
        foreach (FftKernel kernel in FftKernels.Supported)
        {
            var data = (ulong[])original.Clone();
            CantorFft.ToNovelBasis(data, data.Length, kernel);
            CantorFft.Forward(data, data.Length, kernel);
            CantorFft.Inverse(data, kernel);
            CantorFft.FromNovelBasis(data, kernel);
            Assert.Equal(original, data);
        }
    }

    [Theory]
    [InlineData(15)]
    [InlineData(17)]
    public void All_kernels_agree_on_large_transforms(int logSize)
    {
        // Sizes above the cache-local block take the breadth-first levels too; a zero tail exercises the truncation.
        ulong[] original = RandomWords.Words(1 << logSize, 99);
        int nonZero = (1 << logSize) * 3 / 8;
        original.AsSpan(nonZero).Clear();
        var reference = (ulong[])original.Clone();
        CantorFft.ToNovelBasis(reference, reference.Length, FftKernel.Portable);
        CantorFft.Forward(reference, reference.Length, FftKernel.Portable);
        foreach (FftKernel kernel in FftKernels.Supported)
        {
            var data = (ulong[])original.Clone();
            CantorFft.ToNovelBasis(data, nonZero, kernel);
            CantorFft.Forward(data, nonZero, kernel);
            Assert.Equal(reference, data);
            CantorFft.Inverse(data, kernel);
            CantorFft.FromNovelBasis(data, kernel);
            Assert.Equal(original, data);
        }
    }

    /// <summary>gcd(g, f) for the field polynomial f = x^64 + x^4 + x^3 + x + 1 and g of degree &lt; 64; returns the monic gcd's low word.</summary>
    private static ulong GcdWithFieldPolynomial(ulong g)
    {
        // First step f mod g, with f's x^64 term handled explicitly.
        if (g == 0) return 0;
        ulong a = g;
        // r = f mod g: reduce x^64 + tail by g.
        int degG = 63 - BitOperations.LeadingZeroCount(g);
        // Represent f as 65-bit (hi bit implicit) and reduce the top term first.
        ulong rLow = BinaryField64.ReductionTail;
        bool top = true; // coefficient of x^64
        if (top)
        {
            // x^64 - g * x^(64 - degG) leaves terms below x^64 (g's lower terms shifted).
            int shift = 64 - degG;
            rLow ^= shift == 64 ? 0 : (g << shift); // the leading 1 of g shifts out to x^64 and cancels
        }
        ulong b = PolyMod(rLow, a);
        while (b != 0)
        {
            ulong t = PolyMod(a, b);
            a = b;
            b = t;
        }
        return a;
    }

    private static ulong PolyMod(ulong a, ulong b)
    {
        int degB = 63 - BitOperations.LeadingZeroCount(b);
        while (a != 0)
        {
            int degA = 63 - BitOperations.LeadingZeroCount(a);
            if (degA < degB) break;
            a ^= b << (degA - degB);
        }
        return a;
    }
}
