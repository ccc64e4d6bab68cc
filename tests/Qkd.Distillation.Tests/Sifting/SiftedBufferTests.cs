using Qkd.Core;
using Qkd.Distillation.Sifting;

namespace Qkd.Distillation.Tests.Sifting;

/// <summary>Sifted bits are raw key: storage left behind by growing, and the storage itself on Zeroise, hold zeros.</summary>
public class SiftedBufferTests
{
    private static void AppendRandom(SiftedBuffer buffer, int count, int seed)
    {
        var random = new Random(seed);
        for (int i = 0; i < count; i++) buffer.Append((byte)random.Next(2), Intensity.Signal);
    }

    [Fact]
    public void Growing_zeroises_the_array_it_leaves_behind_and_keeps_the_bits()
    {
        var buffer = new SiftedBuffer();
        AppendRandom(buffer, 65_536, 1); // full: the next record grows the storage
        var before = buffer.Storage;
        var expected = (ulong[])before.Clone();
        Assert.Contains(before, w => w != 0);

        AppendRandom(buffer, 1, 2);

        Assert.NotSame(before, buffer.Storage);
        Assert.All(before, w => Assert.Equal(0UL, w));
        Assert.Equal(expected, buffer.Storage.AsSpan(0, expected.Length).ToArray());
    }

    [Fact]
    public void Taking_the_front_keeps_the_rest_in_order_and_Zeroise_clears_the_storage()
    {
        var buffer = new SiftedBuffer();
        AppendRandom(buffer, 1_000, 3);
        var all = Qkd.Core.Bits.PackedBits.FromWords((ulong[])buffer.Storage.Clone(), 1_000);

        var (front, _) = buffer.TakeFront(300);
        Assert.True(front.ContentEquals(all.Slice(0, 300)));
        Assert.Equal(700, buffer.Count);
        var (rest, _) = buffer.TakeFront(700);
        Assert.True(rest.ContentEquals(all.Slice(300, 700)));

        AppendRandom(buffer, 500, 4);
        var storage = buffer.Storage;
        buffer.Zeroise();
        Assert.All(storage, w => Assert.Equal(0UL, w));
        Assert.Equal(0, buffer.Count);
    }
}
