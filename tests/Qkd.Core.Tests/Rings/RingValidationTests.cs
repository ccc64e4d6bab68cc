using System.Runtime.InteropServices;
using Qkd.Core.Rings;

namespace Qkd.Core.Tests.Rings;

/// <summary>Bad arguments and misuse fail loudly with messages that say what is wrong; the cursor layout is padded.</summary>
public class RingValidationTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(0)]
    [InlineData(-8)]
    [InlineData(3)]
    [InlineData(1000)]
    [InlineData((1 << 30) + 1)]
    [InlineData(int.MinValue)]
    [InlineData(int.MaxValue)]
    public void Capacities_that_are_not_powers_of_two_in_range_are_rejected(int capacity)
    {
        var spsc = Assert.Throws<ArgumentOutOfRangeException>(() => new SpscRing<long>(capacity));
        var mpsc = Assert.Throws<ArgumentOutOfRangeException>(() => new MpscRing<long>(capacity));
        foreach (var error in new[] { spsc, mpsc })
        {
            Assert.Equal("capacity", error.ParamName);
            Assert.Contains("power of two", error.Message);
            Assert.Contains(capacity.ToString(), error.Message);
        }
    }

    [Fact]
    public void The_message_suggests_the_next_power_of_two()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new SpscRing<long>(1000));
        Assert.Contains("1024", error.Message);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(1 << 20)]
    public void Powers_of_two_are_accepted(int capacity)
    {
        Assert.Equal(capacity, new SpscRing<byte>(capacity).Capacity);
        Assert.Equal(capacity, new MpscRing<byte>(capacity).Capacity);
        Assert.Equal(capacity, RingCapacity.AtLeast(capacity));
        if (capacity > 2) Assert.Equal(capacity, RingCapacity.AtLeast(capacity / 2 + 1));
    }

    [Fact]
    public void Unknown_overflow_policy_is_rejected()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new SpscRing<long>(8, (OverflowPolicy)7));
        Assert.Equal("overflowPolicy", error.ParamName);
    }

    [Fact]
    public void Publishing_or_releasing_more_than_available_is_rejected()
    {
        var ring = new SpscRing<long>(4);
        var slots = ring.Claim(10);
        Assert.Equal(4, slots.Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => ring.Publish(5));
        ring.Publish(2);
        Assert.Throws<ArgumentOutOfRangeException>(() => ring.Release(3));

        var mpsc = new MpscRing<long>(4);
        mpsc.TryWrite(1);
        Assert.Equal(1, mpsc.Peek(4).Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => mpsc.Release(2));
    }

    [Fact]
    public void Writing_after_complete_is_rejected()
    {
        var spsc = new SpscRing<long>(4);
        spsc.Complete();
        Assert.Contains("Complete", Assert.Throws<InvalidOperationException>(() => spsc.TryWrite(1)).Message);
        var mpsc = new MpscRing<long>(4);
        mpsc.Complete();
        Assert.Contains("Complete", Assert.Throws<InvalidOperationException>(() => mpsc.Write([1L, 2L], Ct)).Message);
    }

    [Fact]
    public void Negative_timeouts_other_than_infinite_are_rejected()
    {
        var ring = new SpscRing<long>(4);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => ring.WaitToRead(TimeSpan.FromMilliseconds(-5), Ct));
        Assert.Equal("timeout", error.ParamName);
    }

    [Fact]
    public void Read_into_an_empty_destination_is_rejected()
    {
        var ring = new SpscRing<long>(4);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => ring.Read(Span<long>.Empty, Ct)).ParamName);
    }

    [Theory]
    [InlineData("Qkd.Core.Rings.SpscCursors", "ProducerSequence", "ConsumerSequence")]
    [InlineData("Qkd.Core.Rings.MpscCursors", "ClaimSequence", "ConsumerSequence")]
    public void Cursors_written_by_different_threads_are_two_cache_lines_apart(string typeName, string producerField, string consumerField)
    {
        var type = typeof(SpscRing<>).Assembly.GetType(typeName, throwOnError: true)!;
        long producer = Marshal.OffsetOf(type, producerField);
        long consumer = Marshal.OffsetOf(type, consumerField);
        long size = Marshal.SizeOf(type);
        Assert.True(producer >= 128, "padding before the producer cursor");
        Assert.True(consumer - producer >= 128, "padding between the cursors");
        Assert.True(size - consumer >= 128 - 16, "padding after the consumer line");
    }
}
