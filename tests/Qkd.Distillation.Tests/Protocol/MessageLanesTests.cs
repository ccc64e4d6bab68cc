using Qkd.ClassicalChannel;
using Qkd.Distillation.Protocol;

namespace Qkd.Distillation.Tests.Protocol;

/// <summary>
/// <see cref="MessageLanes"/>: one channel read as a sifting lane and a block lane, each in its own order, whichever
/// lane happens to read the channel; a lane never waits on the channel while its message sits with the other.
/// </summary>
public class MessageLanesTests
{
    private static byte[] Message(MessageType type, int sequence) => [(byte)type, (byte)sequence, (byte)(sequence >> 8)];

    private static int Sequence(ReadOnlyMemory<byte> message) => message.Span[1] | message.Span[2] << 8;

    [Fact]
    public async Task Each_lane_receives_its_own_messages_in_order_while_both_read_at_once()
    {
        var ct = TestContext.Current.CancellationToken;
        var (sender, receiver) = InMemoryClassicalChannel.CreatePair();
        var lanes = new MessageLanes(receiver);
        const int Count = 2000;
        var rng = new Random(4);
        var order = Enumerable.Range(0, 2 * Count).Select(i => i < Count).OrderBy(_ => rng.Next()).ToArray();
        int sift = 0, block = 0;
        foreach (bool isSift in order)
            await sender.SendAsync(isSift ? Message(MessageType.SiftResponse, sift++) : Message(MessageType.ParityAnswers, block++), ct);

        async Task<List<int>> ReadAll(Qkd.Core.Channel.IClassicalChannel lane, MessageType expected)
        {
            var seen = new List<int>();
            for (int i = 0; i < Count; i++)
            {
                var message = await lane.ReceiveAsync(ct);
                Assert.Equal(expected, ProtocolReader.PeekType(message.Span));
                seen.Add(Sequence(message));
            }
            return seen;
        }
        var sifting = Task.Run(() => ReadAll(lanes.Sift, MessageType.SiftResponse), ct);
        var blocks = Task.Run(() => ReadAll(lanes.Block, MessageType.ParityAnswers), ct);

        Assert.Equal(Enumerable.Range(0, Count), await sifting);
        Assert.Equal(Enumerable.Range(0, Count), await blocks);
    }

    [Fact]
    public async Task A_lane_gets_its_message_when_the_other_lane_read_it_and_goes_on_waiting()
    {
        var ct = TestContext.Current.CancellationToken;
        var (sender, receiver) = InMemoryClassicalChannel.CreatePair();
        var lanes = new MessageLanes(receiver);
        // The block lane starts reading first and waits on the channel; the sifting lane then waits behind it.
        var block = lanes.Block.ReceiveAsync(ct).AsTask();
        var sift = lanes.Sift.ReceiveAsync(ct).AsTask();
        await sender.SendAsync(Message(MessageType.SiftResponse, 1), ct);
        // The sift message arrives whichever lane read it; the block lane still waits for its own.
        Assert.Equal(1, Sequence(await sift.WaitAsync(TimeSpan.FromSeconds(60), ct)));
        Assert.False(block.IsCompleted);
        await sender.SendAsync(Message(MessageType.BlockDone, 2), ct);
        Assert.Equal(2, Sequence(await block.WaitAsync(TimeSpan.FromSeconds(60), ct)));
    }

    [Fact(Timeout = 300_000)]
    public async Task The_channel_never_has_two_readers_while_messages_trickle_in_for_both_lanes()
    {
        // The lanes hand the channel from one to the other many thousand times, each message arriving while both wait.
        // A lane that read without owning the channel would be a second reader: a single-reader channel then cancels
        // the first read, and the session ends with a cancellation nobody asked for.
        var ct = TestContext.Current.CancellationToken;
        var (sender, receiver) = InMemoryClassicalChannel.CreatePair();
        var watched = new ReaderCountingChannel(receiver);
        var lanes = new MessageLanes(watched);
        const int Count = 100_000;
        var rng = new Random(9);
        var order = Enumerable.Range(0, 2 * Count).Select(i => i < Count).OrderBy(_ => rng.Next()).ToArray();

        async Task<int> ReadAll(Qkd.Core.Channel.IClassicalChannel lane, MessageType expected)
        {
            int next = 0;
            for (int i = 0; i < Count; i++)
            {
                var message = await lane.ReceiveAsync(ct);
                Assert.Equal(expected, ProtocolReader.PeekType(message.Span));
                Assert.Equal(next++ & 0xFFFF, Sequence(message));
            }
            return next;
        }
        var sifting = Task.Run(() => ReadAll(lanes.Sift, MessageType.SiftResponse), ct);
        var blocks = Task.Run(() => ReadAll(lanes.Block, MessageType.ParityAnswers), ct);
        int sift = 0, block = 0;
        foreach (bool isSift in order)
        {
            await sender.SendAsync(isSift ? Message(MessageType.SiftResponse, sift++) : Message(MessageType.ParityAnswers, block++), ct);
            if ((sift + block) % 4 == 0) await Task.Yield();
        }

        Assert.Equal(Count, await sifting);
        Assert.Equal(Count, await blocks);
        Assert.Equal(0, watched.Overlaps);
    }

    /// <summary>Counts receives that began while another was still waiting on the channel.</summary>
    private sealed class ReaderCountingChannel(Qkd.Core.Channel.IClassicalChannel inner) : Qkd.Core.Channel.IClassicalChannel
    {
        private int _readers;
        private int _overlaps;

        public int Overlaps => Volatile.Read(ref _overlaps);

        public Qkd.Core.Channel.ChannelStatistics Statistics => inner.Statistics;

        public ValueTask SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default) =>
            inner.SendAsync(message, cancellationToken);

        public async ValueTask<ReadOnlyMemory<byte>> ReceiveAsync(CancellationToken cancellationToken = default)
        {
            if (Interlocked.Increment(ref _readers) > 1) Interlocked.Increment(ref _overlaps);
            try
            {
                return await inner.ReceiveAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                Interlocked.Decrement(ref _readers);
            }
        }

        public void Complete() => inner.Complete();
    }
}
