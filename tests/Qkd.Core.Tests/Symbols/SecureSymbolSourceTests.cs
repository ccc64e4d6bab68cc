using CsCheck;
using Qkd.Core.Symbols;

namespace Qkd.Core.Tests.Symbols;

public class SecureSymbolSourceTests
{
    private static readonly SymbolDistribution Distribution = new(0.75, [0.65, 0.25, 0.10]);

    [Fact]
    public void Bulk_packed_symbols_equal_the_symbols_looked_up_one_by_one()
    {
        Gen.Select(Gen.Byte.Array[32], Gen.Long[0, 1L << 40], Gen.Int[0, 300], Gen.Double[0.05, 0.95]).Sample((key, first, bytes, pz) =>
        {
            using var source = new SecureSymbolSource(key, new SymbolDistribution(pz, [0.6, 0.3, 0.1]));
            var packed = new byte[bytes];
            source.FillPacked(first, packed);
            for (int i = 0; i < bytes; i++)
            {
                Assert.Equal(source.SymbolAt(first + 2L * i).Pack(), packed[i] & 0x0F);
                Assert.Equal(source.SymbolAt(first + 2L * i + 1).Pack(), packed[i] >> 4);
                Assert.Equal(source.SymbolAt(first + 2L * i).Intensity, source.IntensityAt(first + 2L * i));
            }
        }, iter: 100);
    }

    [Fact]
    public void The_vector_path_for_long_spans_equals_the_symbols_looked_up_one_by_one()
    {
        // Spans of at least two 128-pulse groups take the 512-bit path (where the CPU has it) between a head and a tail.
        Gen.Select(Gen.Byte.Array[32], Gen.Long[0, 1L << 50], Gen.Int[128, 2000], Gen.Double[0.05, 0.95], Gen.Double[0, 1]).Sample((key, first, bytes, pz, signal) =>
        {
            using var source = new SecureSymbolSource(key, new SymbolDistribution(pz, [signal, (1 - signal) / 2, (1 - signal) / 2]));
            var packed = new byte[bytes];
            source.FillPacked(first, packed);
            for (int i = 0; i < bytes; i++)
                Assert.Equal(source.SymbolAt(first + 2L * i).Pack() | (source.SymbolAt(first + 2L * i + 1).Pack() << 4), packed[i]);
        }, iter: 50);
        // Probability 1 for the signal puts its threshold at 2^32, above every 32-bit value.
        using var allSignal = new SecureSymbolSource(new byte[32], new SymbolDistribution(0.5, [1, 0, 0]));
        var all = new byte[4096];
        allSignal.FillPacked(256, all);
        Assert.All(all, b => Assert.Equal(Intensity.Signal, PulseSymbol.Unpack((byte)(b & 0x0F)).Intensity));
    }

    [Fact]
    public void Symbol_frequencies_over_ten_million_pulses_are_the_configured_ones_within_five_sigma()
    {
        const long pulses = 10_000_000;
        using var source = new SecureSymbolSource(Distribution);
        var packed = new byte[1 << 16];
        long z = 0, ones = 0;
        var intensity = new long[3];
        for (long first = 0; first < pulses; first += 2L * packed.Length)
        {
            int bytes = (int)Math.Min(packed.Length, (pulses - first) / 2);
            source.FillPacked(first, packed.AsSpan(0, bytes));
            foreach (byte b in packed.AsSpan(0, bytes))
                foreach (int nibble in new[] { b & 0x0F, b >> 4 })
                {
                    var symbol = PulseSymbol.Unpack((byte)nibble);
                    if (symbol.Basis == Basis.Z) z++;
                    ones += symbol.Bit;
                    intensity[(int)symbol.Intensity]++;
                }
        }
        AssertNear(z, pulses, Distribution.ProbabilityZ);
        AssertNear(ones, pulses, 0.5);
        for (int k = 0; k < 3; k++) AssertNear(intensity[k], pulses, Distribution.IntensityProbabilities[k]);
    }

    private static void AssertNear(long count, long n, double p)
    {
        double sigma = Math.Sqrt(n * p * (1 - p));
        Assert.InRange(count, n * p - 5 * sigma, n * p + 5 * sigma);
    }

    [Fact]
    public void Symbols_are_a_function_of_key_and_pulse_and_differ_across_keys()
    {
        var key = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
        var other = (byte[])key.Clone();
        other[31] ^= 1;
        using var a = new SecureSymbolSource(key, Distribution);
        using var again = new SecureSymbolSource(key, Distribution);
        using var b = new SecureSymbolSource(other, Distribution);
        using var fresh1 = new SecureSymbolSource(Distribution);
        using var fresh2 = new SecureSymbolSource(Distribution);
        long[] pulses = Enumerable.Range(0, 4096).Select(i => (long)i * 7919).ToArray();
        Assert.Equal(pulses.Select(a.SymbolAt), pulses.Select(again.SymbolAt));
        Assert.True(pulses.Count(p => a.SymbolAt(p) != b.SymbolAt(p)) > 2000);
        Assert.True(pulses.Count(p => fresh1.SymbolAt(p) != fresh2.SymbolAt(p)) > 2000);
    }

    [Fact]
    public void Dispose_zeroes_the_key_and_later_lookups_throw()
    {
        var source = new SecureSymbolSource(Distribution);
        Assert.False(source.KeyIsZero);
        source.Dispose();
        Assert.True(source.KeyIsZero);
        Assert.Throws<ObjectDisposedException>(() => source.SymbolAt(0));
        Assert.Throws<ObjectDisposedException>(() => source.FillPacked(0, new byte[8]));
    }
}
