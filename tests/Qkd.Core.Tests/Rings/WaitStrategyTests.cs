using Qkd.Core.Rings;

namespace Qkd.Core.Tests.Rings;

/// <summary>
/// Blocking waits wake on publish, release, completion and cancellation, and never lose a wake-up. Tests wait for the
/// other thread to be parked (the strategy's waiter count) before acting, so they test the wake-up and not a race.
/// </summary>
public class WaitStrategyTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly TimeSpan Hang = TimeSpan.FromMinutes(1);

    private static void WaitUntilParked(BlockingWaitStrategy wait, int waiters = 1)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (wait.WaiterCount < waiters)
        {
            if (sw.Elapsed > Hang) throw new TimeoutException("the other thread never parked");
            Thread.Sleep(1);
        }
    }

    [Fact]
    public async Task Parked_spsc_consumer_wakes_on_publish()
    {
        var wait = new BlockingWaitStrategy();
        var ring = new SpscRing<long>(8, OverflowPolicy.BackPressure, wait);
        var reader = Task.Factory.StartNew(() =>
        {
            var buffer = new long[8];
            int n = ring.Read(buffer);
            return buffer[..n];
        }, TaskCreationOptions.LongRunning);

        WaitUntilParked(wait);
        Assert.True(ring.TryWrite(42));
        await reader.WaitAsync(Hang, Ct);
        long[] received = await reader;
        Assert.Equal([42L], received);
    }

    [Fact]
    public async Task Parked_consumers_see_end_of_stream_on_complete()
    {
        var wait = new BlockingWaitStrategy();
        var spsc = new SpscRing<long>(8, OverflowPolicy.BackPressure, wait);
        var mpsc = new MpscRing<long>(8, OverflowPolicy.BackPressure, wait);
        var spscReader = Task.Factory.StartNew(() => spsc.Read(new long[4]), TaskCreationOptions.LongRunning);
        var mpscReader = Task.Factory.StartNew(() => mpsc.WaitToRead(), TaskCreationOptions.LongRunning);

        WaitUntilParked(wait, waiters: 2);
        spsc.Complete();
        mpsc.Complete();
        await Task.WhenAll([spscReader, mpscReader]).WaitAsync(Hang, Ct);
        Assert.Equal(0, await spscReader);
        Assert.False(await mpscReader);
        Assert.True(spsc.IsEndOfStream && mpsc.IsEndOfStream);
    }

    [Fact]
    public async Task Parked_mpsc_consumer_wakes_on_publish()
    {
        var wait = new BlockingWaitStrategy();
        var ring = new MpscRing<long>(8, OverflowPolicy.BackPressure, wait);
        var reader = Task.Factory.StartNew(() =>
        {
            var buffer = new long[8];
            int n = ring.Read(buffer);
            return buffer[..n];
        }, TaskCreationOptions.LongRunning);

        WaitUntilParked(wait);
        Assert.Equal(2, ring.Write([7, 8], Ct));
        await reader.WaitAsync(Hang, Ct);
        long[] received = await reader;
        Assert.Equal([7L, 8L], received);
    }

    [Fact]
    public async Task Parked_back_pressure_producer_wakes_when_the_consumer_releases()
    {
        var wait = new BlockingWaitStrategy();
        var ring = new SpscRing<long>(2, OverflowPolicy.BackPressure, wait);
        Assert.Equal(2, ring.TryWrite([1, 2]));
        var writer = Task.Factory.StartNew(() => ring.Write([3, 4]), TaskCreationOptions.LongRunning);

        WaitUntilParked(wait);
        var two = new long[2];
        Assert.Equal(2, ring.TryRead(two));
        await writer.WaitAsync(Hang, Ct);
        Assert.Equal(2, await writer);
        Assert.Equal(2, ring.TryRead(two));
        Assert.Equal([3L, 4L], two);
        Assert.Equal(0, ring.Dropped);
    }

    [Fact]
    public async Task Cancellation_wakes_a_parked_reader_and_loses_nothing()
    {
        var wait = new BlockingWaitStrategy();
        var ring = new SpscRing<long>(8, OverflowPolicy.BackPressure, wait);
        using var cts = new CancellationTokenSource();
        var reader = Task.Factory.StartNew(() => ring.Read(new long[4], cts.Token), TaskCreationOptions.LongRunning);

        WaitUntilParked(wait);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reader.WaitAsync(Hang, Ct));
        Assert.True(ring.TryWrite(5));
        Assert.True(ring.TryRead(out long item));
        Assert.Equal(5, item);
    }

    [Fact]
    public async Task Cancelled_back_pressure_write_reports_how_many_went_in()
    {
        var wait = new BlockingWaitStrategy();
        var ring = new MpscRing<long>(4, OverflowPolicy.BackPressure, wait);
        using var cts = new CancellationTokenSource();
        var writer = Task.Factory.StartNew(() => ring.Write([1, 2, 3, 4, 5, 6], cts.Token), TaskCreationOptions.LongRunning);

        WaitUntilParked(wait);
        cts.Cancel();
        await writer.WaitAsync(Hang, Ct);
        Assert.Equal(4, await writer);
        Assert.Equal(4, ring.Published);
        Assert.Equal(0, ring.Dropped);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void Wait_to_read_times_out_on_an_empty_ring(int strategy)
    {
        IWaitStrategy wait = strategy switch { 0 => SpinWaitStrategy.Instance, 1 => YieldingWaitStrategy.Instance, _ => new BlockingWaitStrategy() };
        var ring = new SpscRing<long>(4, OverflowPolicy.BackPressure, wait);
        Assert.False(ring.WaitToRead(TimeSpan.FromMilliseconds(10), Ct));
        Assert.False(ring.IsEndOfStream);
        ring.TryWrite(1);
        Assert.True(ring.WaitToRead(TimeSpan.FromMilliseconds(10), Ct));
    }

    /// <summary>
    /// Ping-pong through a one-slot ring with both sides blocking: every element forces a park and a wake-up on each
    /// side, so a single lost wake-up hangs the test (the strategy has no periodic re-check to hide it).
    /// </summary>
    [Fact]
    public async Task No_wake_up_is_lost_when_both_sides_block_on_every_element()
    {
        const int total = 30_000;
        var wait = new BlockingWaitStrategy();
        var ring = new SpscRing<int>(1, OverflowPolicy.BackPressure, wait);
        var producer = Task.Factory.StartNew(() =>
        {
            for (int i = 0; i < total; i++)
                if (!ring.Write(i)) throw new InvalidOperationException("back-pressure write failed");
            ring.Complete();
        }, TaskCreationOptions.LongRunning);
        var consumer = Task.Factory.StartNew(() =>
        {
            var one = new int[1];
            int expected = 0;
            while (ring.Read(one) == 1)
                if (one[0] != expected++) return -1;
            return expected;
        }, TaskCreationOptions.LongRunning);

        await Task.WhenAll([producer, consumer]).WaitAsync(Hang, Ct);
        Assert.Equal(total, await consumer);
    }

    [Fact]
    public async Task No_wake_up_is_lost_with_several_blocking_producers()
    {
        const int producers = 3, perProducer = 20_000;
        var wait = new BlockingWaitStrategy();
        var ring = new MpscRing<int>(2, OverflowPolicy.BackPressure, wait);
        var writers = Enumerable.Range(0, producers).Select(id => Task.Factory.StartNew(() =>
        {
            for (int i = 0; i < perProducer; i++)
                if (!ring.Write(id * perProducer + i)) throw new InvalidOperationException("back-pressure write failed");
        }, TaskCreationOptions.LongRunning)).ToArray();
        var consumer = Task.Factory.StartNew(() =>
        {
            var next = new int[producers];
            var buffer = new int[3];
            int n;
            while ((n = ring.Read(buffer)) > 0)
                for (int i = 0; i < n; i++)
                {
                    int id = buffer[i] / perProducer;
                    if (buffer[i] % perProducer != next[id]++) return false;
                }
            return next.All(c => c == perProducer);
        }, TaskCreationOptions.LongRunning);

        await Task.WhenAll(writers).WaitAsync(Hang, Ct);
        ring.Complete();
        await consumer.WaitAsync(Hang, Ct);
        Assert.True(await consumer);
    }
}
