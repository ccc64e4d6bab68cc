using Qkd.Core.Channel;
using Qkd.ClassicalChannel;

namespace Qkd.ClassicalChannel.Tests;

/// <summary>
/// What the distillers rely on from any <see cref="IClassicalChannel"/>: whole messages, in order, both ways, copied
/// on send, counted, ended by Complete. Every implementation runs these same tests.
/// </summary>
public abstract class ClassicalChannelContract
{
    protected sealed record ChannelPair(IClassicalChannel Alice, IClassicalChannel Bob, Func<ValueTask> Cleanup);

    protected abstract ChannelPair CreatePair();

    // A broken channel must fail the test, not hang it.
    private readonly CancellationTokenSource _timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);

    protected ClassicalChannelContract() => _timeout.CancelAfter(TimeSpan.FromSeconds(60));

    private CancellationToken Token => _timeout.Token;

    private static byte[] Message(int direction, int i)
    {
        int length = (i * 37) % 3000;
        var m = new byte[length + 8];
        BitConverter.TryWriteBytes(m, i);
        BitConverter.TryWriteBytes(m.AsSpan(4), direction);
        for (int j = 8; j < m.Length; j++) m[j] = (byte)(i + j);
        return m;
    }

    [Fact]
    public async Task Messages_arrive_whole_and_in_order_both_ways_at_once()
    {
        var pair = CreatePair();
        try
        {
            const int count = 1000;
            var sendA = Task.Run(async () => { for (int i = 0; i < count; i++) await pair.Alice.SendAsync(Message(0, i), Token); });
            var sendB = Task.Run(async () => { for (int i = 0; i < count; i++) await pair.Bob.SendAsync(Message(1, i), Token); });
            var receiveB = Task.Run(async () => { for (int i = 0; i < count; i++) Assert.Equal(Message(0, i), (await pair.Bob.ReceiveAsync(Token)).ToArray()); });
            var receiveA = Task.Run(async () => { for (int i = 0; i < count; i++) Assert.Equal(Message(1, i), (await pair.Alice.ReceiveAsync(Token)).ToArray()); });
            await Task.WhenAll(sendA, sendB, receiveA, receiveB);
        }
        finally { await pair.Cleanup(); }
    }

    [Fact]
    public async Task Request_and_reply_in_turn_like_the_distillers()
    {
        var pair = CreatePair();
        try
        {
            for (int i = 0; i < 300; i++)
            {
                await pair.Alice.SendAsync(Message(0, i), Token);
                Assert.Equal(Message(0, i), (await pair.Bob.ReceiveAsync(Token)).ToArray());
                await pair.Bob.SendAsync(Message(1, i), Token);
                Assert.Equal(Message(1, i), (await pair.Alice.ReceiveAsync(Token)).ToArray());
            }
        }
        finally { await pair.Cleanup(); }
    }

    [Fact]
    public async Task The_sender_may_reuse_its_buffer_at_once_and_empty_messages_pass()
    {
        var pair = CreatePair();
        try
        {
            var buffer = new byte[] { 1, 2, 3 };
            await pair.Alice.SendAsync(buffer, Token);
            buffer[0] = 99;
            await pair.Alice.SendAsync(ReadOnlyMemory<byte>.Empty, Token);
            Assert.Equal([1, 2, 3], (await pair.Bob.ReceiveAsync(Token)).ToArray());
            Assert.Equal(0, (await pair.Bob.ReceiveAsync(Token)).Length);
        }
        finally { await pair.Cleanup(); }
    }

    [Fact]
    public async Task Complete_delivers_what_came_before_then_receiving_throws()
    {
        var pair = CreatePair();
        try
        {
            await pair.Alice.SendAsync(new byte[] { 7 }, Token);
            await pair.Alice.SendAsync(new byte[] { 8 }, Token);
            pair.Alice.Complete();
            Assert.Equal([7], (await pair.Bob.ReceiveAsync(Token)).ToArray());
            Assert.Equal([8], (await pair.Bob.ReceiveAsync(Token)).ToArray());
            await Assert.ThrowsAsync<ClassicalChannelClosedException>(async () => await pair.Bob.ReceiveAsync(Token));
            // The other direction still works until Bob completes too.
            await pair.Bob.SendAsync(new byte[] { 9 }, Token);
            Assert.Equal([9], (await pair.Alice.ReceiveAsync(Token)).ToArray());
            pair.Bob.Complete();
            await Assert.ThrowsAsync<ClassicalChannelClosedException>(async () => await pair.Alice.ReceiveAsync(Token));
        }
        finally { await pair.Cleanup(); }
    }

    [Fact]
    public async Task Statistics_count_messages_and_bytes()
    {
        var pair = CreatePair();
        try
        {
            await pair.Alice.SendAsync(new byte[10], Token);
            await pair.Alice.SendAsync(new byte[20], Token);
            await pair.Bob.ReceiveAsync(Token);
            await pair.Bob.ReceiveAsync(Token);
            Assert.Equal(2, pair.Alice.Statistics.MessagesSent);
            Assert.Equal(30, pair.Alice.Statistics.BytesSent);
            Assert.Equal(2, pair.Bob.Statistics.MessagesReceived);
            Assert.Equal(30, pair.Bob.Statistics.BytesReceived);
            Assert.Equal(0, pair.Bob.Statistics.MessagesSent);
        }
        finally { await pair.Cleanup(); }
    }

    [Fact]
    public async Task Receiving_honours_cancellation()
    {
        var pair = CreatePair();
        try
        {
            using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await pair.Bob.ReceiveAsync(cancel.Token));
            // A cancelled receive loses nothing.
            await pair.Alice.SendAsync(new byte[] { 5 }, Token);
            Assert.Equal([5], (await pair.Bob.ReceiveAsync(Token)).ToArray());
        }
        finally { await pair.Cleanup(); }
    }
}

public sealed class InMemoryClassicalChannelContractTests : ClassicalChannelContract
{
    protected override ChannelPair CreatePair()
    {
        var (alice, bob) = InMemoryClassicalChannel.CreatePair();
        return new ChannelPair(alice, bob, () => ValueTask.CompletedTask);
    }
}

public sealed class TcpClassicalChannelContractTests : ClassicalChannelContract
{
    protected override ChannelPair CreatePair()
    {
        var pads = new TestPads();
        var alicePad = pads.Open(ChannelEnd.Alice);
        var bobPad = pads.Open(ChannelEnd.Bob);
        var (alice, bob) = pads.Pair(alicePad, bobPad);
        return new ChannelPair(alice, bob, async () =>
        {
            await alice.DisposeAsync();
            await bob.DisposeAsync();
            // Nothing went wrong on a clean loopback: no frame rejected on either side.
            Assert.Equal(0, alice.Security.RejectedTotal);
            Assert.Equal(0, bob.Security.RejectedTotal);
            alicePad.Dispose();
            bobPad.Dispose();
            pads.Dispose();
        });
    }
}
