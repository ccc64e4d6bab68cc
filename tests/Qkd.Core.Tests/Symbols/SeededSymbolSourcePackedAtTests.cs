using CsCheck;
using Qkd.Core.Symbols;

namespace Qkd.Core.Tests.Symbols;

/// <summary>
/// The sift batch's bulk lookup (issue 14 wrote <see cref="SymbolDistribution.PackedFrom"/> out inline and checks the
/// pulses once, up front) gives the symbols looked up one by one, for any pulses in any order, and refuses a negative
/// pulse before writing anything.
/// </summary>
public class SeededSymbolSourcePackedAtTests
{
    [Fact]
    public void Bulk_lookup_equals_one_by_one_for_any_pulses_and_distribution()
    {
        Gen.Select(Gen.ULong, Gen.Long[0, long.MaxValue].Array[0, 300], Gen.Double[0.05, 0.95], Gen.Double[0.05, 0.9]).Sample((seed, pulses, pz, signal) =>
        {
            var source = new SeededSymbolSource(seed, new SymbolDistribution(pz, [signal, (1 - signal) * 0.7, (1 - signal) * 0.3]));
            var packed = new byte[pulses.Length];
            ((ISymbolSource)source).PackedAt(pulses, packed);
            Assert.Equal(pulses.Select(p => source.SymbolAt(p).Pack()).ToArray(), packed);
        }, iter: 200);
    }

    [Fact]
    public void A_negative_pulse_is_refused_and_nothing_is_written()
    {
        var source = new SeededSymbolSource(1, new SymbolDistribution(0.75, [0.65, 0.25, 0.10]));
        var packed = new byte[4];
        Assert.Throws<ArgumentOutOfRangeException>(() => ((ISymbolSource)source).PackedAt([5, 9, -3, 12], packed));
        Assert.Equal(new byte[4], packed);
    }
}
