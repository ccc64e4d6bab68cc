using Qkd.Core.Rings;

namespace Qkd.Core.Tests.Rings;

/// <summary>Drop-newest counts exactly what it discards, and keeps what fits in order.</summary>
public class RingOverflowTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void Spsc_drop_newest_keeps_the_head_of_a_batch_and_counts_the_tail()
    {
        var ring = new SpscRing<int>(8, OverflowPolicy.DropNewest);
        Assert.Equal(8, ring.Write([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], Ct));
        Assert.Equal(2, ring.Dropped);
        Assert.Equal(8, ring.Fill);

        var three = new int[3];
        Assert.Equal(3, ring.TryRead(three));
        Assert.Equal([1, 2, 3], three);

        Assert.Equal(3, ring.Write([11, 12, 13, 14, 15], Ct));
        Assert.Equal(4, ring.Dropped);
        Assert.False(ring.Write(16, Ct));
        Assert.Equal(5, ring.Dropped);

        var rest = new int[16];
        Assert.Equal(8, ring.TryRead(rest));
        Assert.Equal([4, 5, 6, 7, 8, 11, 12, 13], rest[..8]);
        Assert.Equal(11, ring.Published);
        Assert.Equal(11, ring.Consumed);
        Assert.Equal(16, ring.Published + ring.Dropped); // every attempted element is accounted for
    }

    [Fact]
    public void Mpsc_drop_newest_keeps_the_head_of_a_batch_and_counts_the_tail()
    {
        var ring = new MpscRing<int>(4, OverflowPolicy.DropNewest);
        Assert.Equal(4, ring.Write([1, 2, 3, 4, 5, 6], Ct));
        Assert.Equal(2, ring.Dropped);
        Assert.True(ring.TryRead(out int first));
        Assert.Equal(1, first);
        Assert.True(ring.Write(7, Ct));
        Assert.False(ring.Write(8, Ct));
        Assert.Equal(3, ring.Dropped);

        var rest = new int[8];
        Assert.Equal(4, ring.TryRead(rest));
        Assert.Equal([2, 3, 4, 7], rest[..4]);
        Assert.Equal(8, ring.Published + ring.Dropped);
    }

    [Fact]
    public void Try_write_never_drops_even_on_a_drop_newest_ring()
    {
        var spsc = new SpscRing<int>(2, OverflowPolicy.DropNewest);
        Assert.Equal(2, spsc.TryWrite([1, 2, 3]));
        Assert.False(spsc.TryWrite(4));
        Assert.Equal(0, spsc.Dropped);

        var mpsc = new MpscRing<int>(2, OverflowPolicy.DropNewest);
        Assert.Equal(2, mpsc.TryWrite([1, 2, 3]));
        Assert.False(mpsc.TryWrite(4));
        Assert.Equal(0, mpsc.Dropped);
    }

    [Fact]
    public void Back_pressure_write_with_a_timeout_returns_what_fit_and_drops_nothing()
    {
        var spsc = new SpscRing<int>(4, OverflowPolicy.BackPressure, new BlockingWaitStrategy());
        Assert.Equal(4, spsc.Write([1, 2, 3, 4, 5, 6], TimeSpan.FromMilliseconds(20), Ct));
        Assert.Equal(0, spsc.Dropped);

        var mpsc = new MpscRing<int>(4, OverflowPolicy.BackPressure, new BlockingWaitStrategy());
        Assert.Equal(4, mpsc.Write([1, 2, 3, 4, 5, 6], TimeSpan.FromMilliseconds(20), Ct));
        Assert.Equal(0, mpsc.Dropped);
    }
}
