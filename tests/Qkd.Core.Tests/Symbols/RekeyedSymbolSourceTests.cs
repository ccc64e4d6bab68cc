using CsCheck;
using Qkd.Core.Random;
using Qkd.Core.Symbols;

namespace Qkd.Core.Tests.Symbols;

/// <summary>
/// The re-keyed symbol source under the OS CSPRNG as its entropy source (the QRNG's health path is tested in
/// Qkd.Node.Tests/Entropy against the emulated QRNG behind its real driver).
/// </summary>
public class RekeyedSymbolSourceTests
{
    private static readonly SymbolDistribution Distribution = new(0.75, [0.65, 0.25, 0.10]);

    [Fact]
    public void Bulk_packed_symbols_equal_the_symbols_looked_up_one_by_one_across_epoch_boundaries()
    {
        // Short epochs, any start (odd ones put an epoch's last pulse and the next one's first in one byte), spans that
        // cover several epochs and take the vector path inside them.
        Gen.Select(Gen.Int[7, 10], Gen.Long[0, 1L << 20], Gen.Int[0, 3000], Gen.Double[0.05, 0.95]).Sample((log2, first, bytes, pz) =>
        {
            using var source = new RekeyedSymbolSource(new SymbolDistribution(pz, [0.6, 0.3, 0.1]), OsEntropySource.Instance, log2);
            var packed = new byte[bytes];
            source.FillPacked(first, packed);
            for (int i = 0; i < bytes; i++)
            {
                Assert.Equal(source.SymbolAt(first + 2L * i).Pack(), packed[i] & 0x0F);
                Assert.Equal(source.SymbolAt(first + 2L * i + 1).Pack(), packed[i] >> 4);
                Assert.Equal(source.SymbolAt(first + 2L * i).Intensity, source.IntensityAt(first + 2L * i));
            }
        }, iter: 60);
    }

    [Fact]
    public void Each_epoch_is_the_secure_source_under_its_own_key_so_the_log_is_a_function_of_schedule_and_pulse()
    {
        using var source = new RekeyedSymbolSource(Distribution, OsEntropySource.Instance, epochPulsesLog2: 8);
        var packed = new byte[5 * 256 / 2];
        source.FillPacked(0, packed);
        Assert.Equal(5, source.KeyEpochs);
        var keys = Enumerable.Range(0, 5).Select(e => source.EpochKeyForTests(e)).ToArray();
        Assert.Equal(5, keys.Select(Convert.ToHexString).Distinct().Count());
        for (int epoch = 0; epoch < 5; epoch++)
        {
            using var replay = new SecureSymbolSource(keys[epoch], Distribution);
            for (long pulse = epoch * 256L; pulse < (epoch + 1) * 256L; pulse++)
                Assert.Equal(replay.SymbolAt(pulse), source.SymbolAt(pulse));
        }
    }

    [Fact]
    public void Epochs_are_keyed_once_in_order_by_whoever_first_needs_them()
    {
        using var source = new RekeyedSymbolSource(Distribution, OsEntropySource.Instance, epochPulsesLog2: 7);
        Assert.Equal(0, source.KeyEpochs);
        PulseSymbol first = source.SymbolAt(3);
        Assert.Equal(1, source.KeyEpochs);
        byte[] key0 = source.EpochKeyForTests(0);
        source.FillPacked(0, new byte[64]); // pulses 0 .. 127: epoch 0 again
        Assert.Equal(1, source.KeyEpochs);
        Assert.Equal(first, source.SymbolAt(3));
        source.SymbolAt(10 * 128 + 5); // a sparse reader skips ahead: the epochs between are keyed too
        Assert.Equal(11, source.KeyEpochs);
        Assert.Equal(key0, source.EpochKeyForTests(0));
        Assert.Equal(10, source.EpochOf(10 * 128 + 5));
    }

    [Fact]
    public void Pulses_beyond_the_emission_are_refused_except_the_modulators_padding_pulse()
    {
        using var source = new RekeyedSymbolSource(Distribution, OsEntropySource.Instance, epochPulsesLog2: 7, pulseLimit: 1001);
        source.FillPacked(0, new byte[501]); // pulses 0 .. 1001: 1001 is the padding of an odd emission
        Assert.Throws<ArgumentOutOfRangeException>(() => source.SymbolAt(1001));
        Assert.Throws<ArgumentOutOfRangeException>(() => source.FillPacked(1000, new byte[2]));
        Assert.Throws<ArgumentOutOfRangeException>(() => source.SymbolAt(-1));
        Assert.Equal(8, source.KeyEpochs); // 1002 pulses: epochs 0 .. 7
    }

    [Fact]
    public void Two_sources_differ_and_symbol_frequencies_over_ten_million_pulses_are_the_configured_ones()
    {
        const long pulses = 10_000_000;
        // 2^16-pulse epochs: the count covers 153 epochs, each under its own key.
        using var source = new RekeyedSymbolSource(Distribution, OsEntropySource.Instance, epochPulsesLog2: 16);
        using var other = new RekeyedSymbolSource(Distribution, OsEntropySource.Instance, epochPulsesLog2: 16);
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
        Assert.Equal((pulses + (1 << 16) - 1) >> 16, source.KeyEpochs);
        AssertNear(z, pulses, Distribution.ProbabilityZ);
        AssertNear(ones, pulses, 0.5);
        for (int k = 0; k < 3; k++) AssertNear(intensity[k], pulses, Distribution.IntensityProbabilities[k]);
        long[] probe = Enumerable.Range(0, 4096).Select(i => (long)i * 2_441).ToArray();
        Assert.True(probe.Count(p => source.SymbolAt(p) != other.SymbolAt(p)) > 2000);
    }

    private static void AssertNear(long count, long n, double p)
    {
        double sigma = Math.Sqrt(n * p * (1 - p));
        Assert.InRange(count, n * p - 5 * sigma, n * p + 5 * sigma);
    }

    [Fact]
    public void Dispose_zeroes_every_epoch_key_and_later_lookups_throw()
    {
        var source = new RekeyedSymbolSource(Distribution, OsEntropySource.Instance, epochPulsesLog2: 7);
        source.FillPacked(0, new byte[1024 * 64 + 64]); // 1025 epochs: two chunks of keys
        Assert.Equal(1025, source.KeyEpochs);
        Assert.False(source.KeysAreZero);
        source.Dispose();
        Assert.True(source.KeysAreZero);
        Assert.Throws<ObjectDisposedException>(() => source.SymbolAt(0));
        Assert.Throws<ObjectDisposedException>(() => source.FillPacked(0, new byte[8]));
    }

    [Fact]
    public void Epoch_lengths_outside_the_range_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new RekeyedSymbolSource(Distribution, OsEntropySource.Instance, 6));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RekeyedSymbolSource(Distribution, OsEntropySource.Instance, 49));
    }
}
