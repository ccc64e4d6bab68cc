using Qkd.Acquisition.Loop;
using Qkd.Core.Rings;
using Qkd.Core.TimeTags;

namespace Qkd.Acquisition.Tests.Loop;

public class AcquisitionLoopDisconnectTests
{
    /// <summary>
    /// A tagger whose device goes away after <paramref name="outageAt"/> tags and stays away for
    /// <paramref name="failedAttempts"/> reads, then comes back and goes on (as a driver that reconnects does).
    /// </summary>
    private sealed class FlakySource(long count, long outageAt, int failedAttempts) : ITimeTagSource
    {
        private long _next;
        private int _failuresLeft = failedAttempts;
        public string Name => "flaky source";
        public int ReadsWhileAway { get; private set; }

        public int Read(Span<TimeTag> destination, CancellationToken cancellationToken = default)
        {
            if (_next == outageAt && _failuresLeft > 0)
            {
                _failuresLeft--;
                ReadsWhileAway++;
                throw new TimeTagSourceDisconnectedException(Name, "unplugged");
            }
            long end = _next < outageAt ? outageAt : count;
            int n = (int)Math.Min(destination.Length, end - _next);
            for (int i = 0; i < n; i++, _next++) destination[i] = new TimeTag(_next, 1);
            return n;
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task An_outage_is_reported_once_and_every_tag_still_arrives_once()
    {
        var source = new FlakySource(100_000, 40_000, failedAttempts: 3);
        var ring = new SpscRing<TimeTag>(1 << 12, OverflowPolicy.BackPressure, new BlockingWaitStrategy());
        using var loop = new AcquisitionLoop(source, ring, new AcquisitionLoopOptions { BatchSize = 512, ReconnectInterval = TimeSpan.FromMilliseconds(1) });
        var events = new List<string>();
        loop.SourceDisconnected += e => events.Add("disconnected: " + e.Message);
        loop.SourceReconnected += () => events.Add("reconnected");
        loop.Start();

        var seen = new List<long>();
        var buffer = new TimeTag[1000];
        await Task.Run(() =>
        {
            int n;
            while ((n = ring.Read(buffer, TestContext.Current.CancellationToken)) > 0)
                for (int i = 0; i < n; i++) seen.Add(buffer[i].TimePs);
        }, TestContext.Current.CancellationToken);
        await loop.Completion;

        Assert.Equal(Enumerable.Range(0, 100_000).Select(i => (long)i), seen);
        Assert.Equal(3, source.ReadsWhileAway);
        Assert.Equal(["disconnected: flaky source: disconnected: unplugged", "reconnected"], events);
        Assert.Equal(1, loop.Counters.Snapshot().Disconnects);
        Assert.Equal(AcquisitionState.Stopped, loop.State);
    }

    [Fact(Timeout = 30_000)]
    public async Task Stopping_while_disconnected_ends_the_loop_cleanly()
    {
        var source = new FlakySource(10, 0, failedAttempts: int.MaxValue);
        var ring = new SpscRing<TimeTag>(1 << 8, OverflowPolicy.BackPressure, new BlockingWaitStrategy());
        using var loop = new AcquisitionLoop(source, ring, new AcquisitionLoopOptions { ReconnectInterval = TimeSpan.FromMilliseconds(5) });
        var disconnected = new TaskCompletionSource();
        loop.SourceDisconnected += _ => disconnected.TrySetResult();
        loop.Start();
        await disconnected.Task.WaitAsync(TestContext.Current.CancellationToken);
        Assert.Equal(AcquisitionState.Disconnected, loop.State);
        loop.Stop();
        await loop.Completion;
        Assert.Equal(AcquisitionState.Stopped, loop.State);
        Assert.True(ring.IsEndOfStream);
        Assert.Equal(1, loop.Counters.Snapshot().Disconnects);
    }
}
