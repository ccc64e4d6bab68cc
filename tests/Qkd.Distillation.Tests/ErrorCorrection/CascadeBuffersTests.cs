using Qkd.Distillation.ErrorCorrection;

namespace Qkd.Distillation.Tests.ErrorCorrection;

/// <summary>The reuse of Cascade's large arrays: handed out zeroed, zeroed when given back (they hold raw key).</summary>
[Collection(nameof(CascadeBuffersCollection))]
public class CascadeBuffersTests
{
    [Fact]
    public void A_returned_array_is_zeroed_and_handed_out_again_zeroed()
    {
        var array = CascadeBuffers.Rent(16_407);
        Assert.True(array.Length >= 16_407);
        Assert.All(array, w => Assert.Equal(0UL, w));
        Array.Fill(array, 0xDEADBEEFUL);

        CascadeBuffers.Return(array);
        Assert.All(array, w => Assert.Equal(0UL, w));

        var again = CascadeBuffers.Rent(16_400); // same size class: the frames of a block differ by a bit or so
        Assert.Same(array, again);
        Assert.All(again, w => Assert.Equal(0UL, w));
        CascadeBuffers.Return(again);
    }

    [Fact]
    public void An_array_of_a_size_the_pool_does_not_hand_out_is_zeroed_and_dropped()
    {
        var foreign = new ulong[1000];
        Array.Fill(foreign, ulong.MaxValue);
        CascadeBuffers.Return(foreign);
        Assert.All(foreign, w => Assert.Equal(0UL, w));
        Assert.NotSame(foreign, CascadeBuffers.Rent(1000));
    }
}
