using CsCheck;
using Qkd.Core.Symbols;

namespace Qkd.Core.Tests.Symbols;

public class SeededSymbolSourceFillPackedTests
{
    [Fact]
    public void Bulk_packed_symbols_equal_the_symbols_looked_up_one_by_one()
    {
        Gen.Select(Gen.ULong, Gen.Long[0, 1L << 40], Gen.Int[0, 300], Gen.Double[0.05, 0.95]).Sample((seed, first, bytes, pz) =>
        {
            var source = new SeededSymbolSource(seed, new SymbolDistribution(pz, [0.6, 0.3, 0.1]));
            var packed = new byte[bytes];
            ((ISymbolSource)source).FillPacked(first, packed);
            for (int i = 0; i < bytes; i++)
            {
                Assert.Equal(source.SymbolAt(first + 2L * i).Pack(), packed[i] & 0x0F);
                Assert.Equal(source.SymbolAt(first + 2L * i + 1).Pack(), packed[i] >> 4);
            }
        }, iter: 200);
    }
}
