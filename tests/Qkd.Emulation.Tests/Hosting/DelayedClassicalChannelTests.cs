using System.Diagnostics;
using System.Threading.Channels;
using Qkd.Core.Channel;
using Qkd.Emulation.Hosting;

namespace Qkd.Emulation.Tests.Hosting;

/// <summary>The emulated network latency between two ends: order kept, nothing early, the end of the stream delivered last.</summary>
public sealed class DelayedClassicalChannelTests
{
    [Fact]
    public async Task Messages_arrive_in_order_never_before_the_one_way_delay_and_the_end_follows_them()
    {
        var ct = TestContext.Current.CancellationToken;
        var (a, b) = QueuePair.Create();
        var delay = TimeSpan.FromMilliseconds(20);
        using var alice = new DelayedClassicalChannel(a, delay);
        using var bob = new DelayedClassicalChannel(b, delay);

        var sentAt = new long[50];
        for (int i = 0; i < sentAt.Length; i++)
        {
            sentAt[i] = Stopwatch.GetTimestamp();
            await alice.SendAsync(new[] { (byte)i, (byte)(i >> 8) }, ct);
        }
        alice.Complete();
        for (int i = 0; i < sentAt.Length; i++)
        {
            var message = await bob.ReceiveAsync(ct);
            // A lower bound only: a loaded machine may deliver later, never earlier.
            Assert.True(Stopwatch.GetElapsedTime(sentAt[i]) >= delay, $"message {i} arrived before the one-way delay");
            Assert.Equal(new[] { (byte)i, (byte)(i >> 8) }, message.ToArray());
        }
        await Assert.ThrowsAsync<ClassicalChannelClosedException>(async () => await bob.ReceiveAsync(ct));
    }

    [Fact]
    public async Task A_round_trip_takes_at_least_both_delays()
    {
        var ct = TestContext.Current.CancellationToken;
        var (a, b) = QueuePair.Create();
        var (alice, bob) = DelayedClassicalChannel.Wrap(a, b, TimeSpan.FromMilliseconds(10));
        using (alice)
        using (bob)
        {
            long start = Stopwatch.GetTimestamp();
            await bob.SendAsync(new byte[] { 1 }, ct);
            var request = await alice.ReceiveAsync(ct);
            await alice.SendAsync(request, ct);
            await bob.ReceiveAsync(ct);
            Assert.True(Stopwatch.GetElapsedTime(start) >= TimeSpan.FromMilliseconds(10));
            Assert.Equal(1, bob.Statistics.MessagesSent);
        }
    }

    [Fact]
    public void A_negative_delay_is_refused_by_name()
    {
        var (a, _) = QueuePair.Create();
        Assert.Equal("oneWayDelay", Assert.Throws<ArgumentOutOfRangeException>(() => new DelayedClassicalChannel(a, TimeSpan.FromMilliseconds(-1))).ParamName);
    }
}

/// <summary>A plain in-process pair (what one end sends, the other receives), the channel behind the delay.</summary>
internal sealed class QueuePair(ChannelWriter<byte[]> outbox, ChannelReader<byte[]> inbox) : IClassicalChannel
{
    public static (QueuePair, QueuePair) Create()
    {
        var toB = Channel.CreateUnbounded<byte[]>();
        var toA = Channel.CreateUnbounded<byte[]>();
        return (new QueuePair(toB.Writer, toA.Reader), new QueuePair(toA.Writer, toB.Reader));
    }

    public ChannelStatistics Statistics { get; } = new();

    public ValueTask SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default)
    {
        outbox.TryWrite(message.ToArray());
        Statistics.CountSent(message.Length);
        return ValueTask.CompletedTask;
    }

    public async ValueTask<ReadOnlyMemory<byte>> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        if (await inbox.WaitToReadAsync(cancellationToken) && inbox.TryRead(out var message)) return message;
        throw new ClassicalChannelClosedException("the peer closed");
    }

    public void Complete() => outbox.TryComplete();
}
