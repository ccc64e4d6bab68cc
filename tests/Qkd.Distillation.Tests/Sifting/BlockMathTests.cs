using CsCheck;
using Qkd.Core;

namespace Qkd.Distillation.Tests.Sifting;

/// <summary>The per-intensity count of a block's records (vectorised in issue 14) equals the count record by record.</summary>
public class BlockMathTests
{
    [Fact]
    public void Counts_per_intensity_equal_the_per_record_count()
    {
        Gen.Byte[0, Intensities.Count - 1].Array[0, 5000].Sample(classes =>
        {
            var expected = new long[Intensities.Count];
            foreach (byte k in classes) expected[k]++;
            Assert.Equal(expected, BlockMath.CountPerIntensity(classes));
        });
    }

    [Fact]
    public void A_byte_that_is_no_intensity_class_is_refused_as_before()
    {
        var classes = new byte[100];
        classes[77] = Intensities.Count;
        Assert.Throws<IndexOutOfRangeException>(() => BlockMath.CountPerIntensity(classes));
    }
}
