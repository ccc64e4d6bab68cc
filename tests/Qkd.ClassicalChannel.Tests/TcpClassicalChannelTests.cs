using System.Net;
using Qkd.Core.Channel;
using Qkd.ClassicalChannel;

namespace Qkd.ClassicalChannel.Tests;

/// <summary>Attacks through a man in the middle, dropped connections, restarts and pad exhaustion.</summary>
public sealed class TcpClassicalChannelTests : IDisposable
{
    private readonly TestPads _pads = new();
    private readonly CancellationTokenSource _timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);

    public TcpClassicalChannelTests() => _timeout.CancelAfter(TimeSpan.FromSeconds(90));

    private CancellationToken Token => _timeout.Token;

    public void Dispose() => _pads.Dispose();

    private static byte[] Message(int i) => [.. BitConverter.GetBytes(i), .. new byte[i % 200]];

    private static async Task ReceiveInOrder(IClassicalChannel channel, int from, int to, CancellationToken token)
    {
        for (int i = from; i < to; i++)
            Assert.Equal(Message(i), (await channel.ReceiveAsync(token)).ToArray());
    }

    public static TheoryData<Attack, FrameRejection> Attacks() => new()
    {
        { Attack.FlipBit, FrameRejection.Forged },
        { Attack.ReplayEarlier, FrameRejection.Replayed },
        { Attack.SwapWithNext, FrameRejection.Reordered },
        { Attack.Truncate, FrameRejection.Truncated },
    };

    [Theory]
    [MemberData(nameof(Attacks))]
    public async Task An_attacked_frame_is_rejected_counted_never_delivered_and_traffic_goes_on(Attack attack, FrameRejection expected)
    {
        using var alicePad = _pads.Open(ChannelEnd.Alice);
        using var bobPad = _pads.Open(ChannelEnd.Bob);
        ManInTheMiddleProxy? proxy = null;
        var (alice, bob) = _pads.Pair(alicePad, bobPad, bobEndpoint => (proxy = new ManInTheMiddleProxy(bobEndpoint)).Endpoint);
        await using var _ = proxy!;
        await using var a = alice;
        await using var b = bob;

        // A burst Alice -> Bob (frames back to back, as a swap needs), attacked in the middle, then a second burst.
        for (int i = 0; i < 20; i++) await alice.SendAsync(Message(i), Token);
        await ReceiveInOrder(bob, 0, 20, Token);
        proxy!.Arm(attack);
        for (int i = 20; i < 60; i++) await alice.SendAsync(Message(i), Token);
        await ReceiveInOrder(bob, 20, 60, Token);
        Assert.Equal(1, proxy.AttacksDone);
        Assert.Equal(1, bob.Security.Rejected(expected));
        Assert.Equal(1, bob.Security.RejectedTotal);

        // Genuine traffic continues both ways and nothing extra is delivered.
        await bob.SendAsync(Message(1000), Token);
        Assert.Equal(Message(1000), (await alice.ReceiveAsync(Token)).ToArray());
        await alice.SendAsync(Message(61), Token);
        Assert.Equal(Message(61), (await bob.ReceiveAsync(Token)).ToArray());
        Assert.Equal(61, bob.Statistics.MessagesReceived); // 0..59 and 61
    }

    [Fact]
    public async Task A_reflected_frame_is_recognised_by_its_direction_and_dropped()
    {
        using var alicePad = _pads.Open(ChannelEnd.Alice);
        using var bobPad = _pads.Open(ChannelEnd.Bob);
        ManInTheMiddleProxy? proxy = null;
        var (alice, bob) = _pads.Pair(alicePad, bobPad, bobEndpoint => (proxy = new ManInTheMiddleProxy(bobEndpoint)).Endpoint);
        await using var _ = proxy!;
        await using var a = alice;
        await using var b = bob;

        await alice.SendAsync(Message(0), Token);
        await ReceiveInOrder(bob, 0, 1, Token);
        proxy!.Arm(Attack.Reflect);
        await alice.SendAsync(Message(1), Token);
        await ReceiveInOrder(bob, 1, 2, Token);
        await bob.SendAsync(Message(2), Token);
        await ReceiveInOrder(alice, 2, 3, Token); // the reflected copy of Message(1) never reaches Alice's distiller
        // The proxy writes the reflected copy after forwarding the original, so Bob's reply can reach Alice first.
        Assert.True(SpinWait.SpinUntil(() => alice.Security.Reflections == 1, TimeSpan.FromSeconds(10)), "the reflection was not seen");
        Assert.Equal(0, alice.Security.Reconnects); // nothing was lost, so no reset
        Assert.Equal(1, alice.Statistics.MessagesReceived);
    }

    [Fact]
    public async Task Repeated_attacks_in_both_directions_leave_the_stream_exact()
    {
        using var alicePad = _pads.Open(ChannelEnd.Alice);
        using var bobPad = _pads.Open(ChannelEnd.Bob);
        ManInTheMiddleProxy? proxy = null;
        var (alice, bob) = _pads.Pair(alicePad, bobPad, bobEndpoint => (proxy = new ManInTheMiddleProxy(bobEndpoint)).Endpoint);
        await using var _ = proxy!;
        await using var a = alice;
        await using var b = bob;

        Attack[] attacks = [Attack.FlipBit, Attack.ReplayEarlier, Attack.Truncate, Attack.Reflect, Attack.FlipBit];
        const int attackCount = 20;
        // Each attack is armed once the one before it has struck, and the conversation goes on until all have: however
        // fast the loopback runs, every attack lands mid-stream.
        var attacker = Task.Run(async () =>
        {
            for (int k = 0; k < attackCount; k++)
            {
                int done = proxy!.AttacksDone;
                proxy.Arm(attacks[k % attacks.Length], towardsBob: k % 2 == 0);
                while (proxy.AttacksDone == done) await Task.Delay(1, Token);
            }
        }, Token);
        // Request and reply, as the distillers talk.
        int rounds = 0;
        for (; rounds < 200 || !attacker.IsCompleted; rounds++)
        {
            Assert.True(rounds < 1_000_000, "the attacks never struck");
            await alice.SendAsync(Message(rounds), Token);
            Assert.Equal(Message(rounds), (await bob.ReceiveAsync(Token)).ToArray());
            await bob.SendAsync(Message(rounds + 1), Token);
            Assert.Equal(Message(rounds + 1), (await alice.ReceiveAsync(Token)).ToArray());
        }
        await attacker;
        Assert.Equal(attackCount, proxy!.AttacksDone);
        Assert.Equal(rounds, bob.Statistics.MessagesReceived);
        Assert.Equal(rounds, alice.Statistics.MessagesReceived);
        Assert.True(alice.Security.RejectedTotal + bob.Security.RejectedTotal > 0);
    }

    [Fact]
    public async Task Dropped_connections_mid_stream_deliver_every_message_exactly_once_in_order()
    {
        using var alicePad = _pads.Open(ChannelEnd.Alice);
        using var bobPad = _pads.Open(ChannelEnd.Bob);
        ManInTheMiddleProxy? proxy = null;
        var (alice, bob) = _pads.Pair(alicePad, bobPad, bobEndpoint => (proxy = new ManInTheMiddleProxy(bobEndpoint)).Endpoint);
        await using var _ = proxy!;
        await using var a = alice;
        await using var b = bob;

        // Each drop comes between two stretches of traffic: the senders pause at every sixth of the stream until the
        // connection that carried it has been dropped, so the five drops land mid-stream whatever the machine's speed
        // (a timed drop could find the whole stream delivered on a fast loopback, or none of it connected on a slow one).
        const int count = 3000, drops = 5, stretch = count / (drops + 1);
        var dropped = Enumerable.Range(0, drops).Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
        var aliceAtDrop = Enumerable.Range(0, drops).Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
        var bobAtDrop = Enumerable.Range(0, drops).Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
        async Task SendAll(TcpClassicalChannel channel, TaskCompletionSource[] atDrop)
        {
            for (int i = 0; i < count; i++)
            {
                if (i > 0 && i % stretch == 0 && i / stretch <= drops)
                {
                    atDrop[i / stretch - 1].SetResult();
                    await dropped[i / stretch - 1].Task.WaitAsync(Token);
                }
                await channel.SendAsync(Message(i), Token);
            }
        }
        var sendA = Task.Run(() => SendAll(alice, aliceAtDrop), Token);
        var sendB = Task.Run(() => SendAll(bob, bobAtDrop), Token);
        var receiveB = ReceiveInOrder(bob, 0, count, Token);
        var receiveA = ReceiveInOrder(alice, 0, count, Token);
        for (int d = 0; d < drops; d++)
        {
            await Task.WhenAll(aliceAtDrop[d].Task, bobAtDrop[d].Task).WaitAsync(Token);
            // Sending only queues: wait until the stretch has crossed the connection, so the drop hits a live one.
            long delivered = (d + 1L) * stretch;
            while (alice.Statistics.MessagesReceived < delivered || bob.Statistics.MessagesReceived < delivered)
                await Task.Delay(1, Token);
            proxy!.DropConnections();
            dropped[d].SetResult();
        }
        await Task.WhenAll(sendA, sendB, receiveA, receiveB);
        // Both ends reconnected; their counts may differ by one (a drop can land while only one end has re-established).
        Assert.True(alice.Security.Reconnects >= 1);
        Assert.True(bob.Security.Reconnects >= 1);
        Assert.Equal(count, bob.Statistics.MessagesReceived);
        Assert.Equal(count, alice.Statistics.MessagesReceived);
        Assert.Equal(0, alice.Security.Forgeries + bob.Security.Forgeries + alice.Security.Replays + bob.Security.Replays);
    }

    [Fact]
    public async Task Pad_exhaustion_stops_the_channel_with_a_clear_error_and_reuses_nothing()
    {
        using var pads = new TestPads(padBytes: TestPads.PadBytesForSessionTags(39)); // 39 session tags per direction
        using var alicePad = pads.Open(ChannelEnd.Alice);
        using var bobPad = pads.Open(ChannelEnd.Bob);
        var (alice, bob) = pads.Pair(alicePad, bobPad);
        await using var a = alice;
        await using var b = bob;

        int sent = 0;
        Exception? failure = null;
        try
        {
            for (; sent < 100; sent++)
            {
                await alice.SendAsync(Message(sent), Token);
                await ReceiveInOrder(bob, sent, sent + 1, Token);
            }
        }
        catch (Exception e) { failure = e; }
        Assert.NotNull(failure);
        Assert.True(failure is AuthenticationPadExhaustedException or ClassicalChannelClosedException, failure.ToString());
        Assert.Contains("exhausted", failure.Message);
        Assert.Equal(ChannelCloseReason.PadExhausted, alice.CloseReason);
        Assert.Equal(13 * 128, alicePad.Account.RemainingBits); // only the KME link's lane is left
        Assert.Equal(39, alice.Security.TagsCreated); // every pad used exactly once: the handshake's and one per message
        Assert.True(sent < 39);
        await Assert.ThrowsAsync<ClassicalChannelClosedException>(async () => await alice.SendAsync(Message(0), Token));
        var closed = await Assert.ThrowsAsync<ClassicalChannelClosedException>(async () => await alice.ReceiveAsync(Token));
        Assert.Contains("exhausted", closed.Message);
        Assert.Throws<AuthenticationPadExhaustedException>(() => alicePad.TakeSendIndex(ChannelKind.Session));
    }

    [Fact]
    public async Task Replenishment_held_by_both_ends_joins_the_pad_at_the_next_handshake_and_the_channel_goes_on()
    {
        using var pads = new TestPads(padBytes: TestPads.PadBytesForSessionTags(30));
        using var alicePad = pads.Open(ChannelEnd.Alice);
        using var bobPad = pads.Open(ChannelEnd.Bob);
        ManInTheMiddleProxy? proxy = null;
        var (alice, bob) = pads.Pair(alicePad, bobPad, bobEndpoint => (proxy = new ManInTheMiddleProxy(bobEndpoint)).Endpoint);
        await using var _ = proxy!;
        await using var a = alice;
        await using var b = bob;

        var block = TestPads.Replenishment(groups: 40);
        for (int i = 0; i < 60; i++)
        {
            if (i == 10)
            {
                // The distillers store the block's replenishment (Bob first); it joins at the next handshake.
                Assert.True(bobPad.AddPending(1, block));
                Assert.True(alicePad.AddPending(1, block));
                proxy!.DropConnections();
            }
            await alice.SendAsync(Message(i), Token);
            await ReceiveInOrder(bob, i, i + 1, Token);
        }
        Assert.Equal([1L], bobPad.AppliedBlocks);
        Assert.Equal([1L], alicePad.AppliedBlocks);
        Assert.Equal(40 * 128 * 8L, bobPad.Account.ReplenishedBits);
        Assert.Equal(0, bob.Security.Forgeries);
        Assert.True(alice.Security.TagsCreated > 30);
    }

    [Fact]
    public async Task A_restarted_connector_never_reuses_pad_and_the_listener_sees_a_lost_session()
    {
        var bobPad = _pads.Open(ChannelEnd.Bob);
        var bob = new TcpClassicalChannel(TestPads.Listener(), bobPad);
        var endpoint = bob.LocalEndpoint!;
        long consumedBefore;
        Guid firstSession;
        // First Alice process.
        using (var alicePad = _pads.Open(ChannelEnd.Alice))
        {
            await using var alice = new TcpClassicalChannel(TestPads.Connector(endpoint), alicePad);
            for (int i = 0; i < 10; i++) await alice.SendAsync(Message(i), Token);
            await ReceiveInOrder(bob, 0, 10, Token);
            consumedBefore = alicePad.Account.ConsumedBits;
            firstSession = alice.SessionId;
        }
        // Second Alice process: same pre-shared file, same persisted cursor, new session state.
        using var alicePad2 = _pads.Open(ChannelEnd.Alice);
        Assert.True(alicePad2.Account.ConsumedBits >= consumedBefore);
        Assert.True(alicePad2.Account.ConsumedBits >= AuthenticationPadStore.ReserveBatch * 128L); // past the whole reservation
        await using var alice2 = new TcpClassicalChannel(TestPads.Connector(endpoint), alicePad2);
        await alice2.SendAsync(Message(100), Token);
        // The old Bob cannot resume a session it exchanged data in: a clear, typed end (the node restarts at a block boundary).
        var e = await Assert.ThrowsAsync<ClassicalChannelClosedException>(async () => await bob.ReceiveAsync(Token));
        Assert.Contains("restarted", e.Message);
        Assert.Equal(ChannelCloseReason.SessionLost, bob.CloseReason);
        await bob.DisposeAsync();

        // The node starts a new listener channel on the same pad store and port: the new session works.
        var bob2 = new TcpClassicalChannel(TestPads.Listener() with { ListenEndpoint = endpoint }, bobPad);
        await using (bob2)
        {
            Assert.Equal(Message(100), (await bob2.ReceiveAsync(Token)).ToArray());
            Assert.NotEqual(firstSession, alice2.SessionId);
            Assert.Equal(0, bob2.Security.RejectedTotal);
        }
        bobPad.Dispose();
    }

    [Fact]
    public async Task A_connector_whose_listener_restarted_sees_a_lost_session()
    {
        using var alicePad = _pads.Open(ChannelEnd.Alice);
        using var bobPad = _pads.Open(ChannelEnd.Bob);
        var bob = new TcpClassicalChannel(TestPads.Listener(), bobPad);
        var endpoint = bob.LocalEndpoint!;
        await using var alice = new TcpClassicalChannel(TestPads.Connector(endpoint), alicePad);
        await alice.SendAsync(Message(0), Token);
        await ReceiveInOrder(bob, 0, 1, Token);
        await bob.DisposeAsync(); // Bob's process ends...
        await using var bobAgain = new TcpClassicalChannel(TestPads.Listener() with { ListenEndpoint = endpoint }, bobPad); // ...and comes back empty
        var e = await Assert.ThrowsAsync<ClassicalChannelClosedException>(async () => await alice.ReceiveAsync(Token));
        Assert.Contains("lost", e.Message);
        Assert.Equal(ChannelCloseReason.SessionLost, alice.CloseReason);
    }

    [Fact]
    public void Options_and_pad_mismatches_are_refused()
    {
        using var alicePad = _pads.Open(ChannelEnd.Alice);
        Assert.Throws<ArgumentException>(() => new TcpClassicalChannel(new TcpClassicalChannelOptions { LocalEnd = ChannelEnd.Alice }, alicePad));
        Assert.Throws<ArgumentException>(() => new TcpClassicalChannel(TestPads.Listener(ChannelEnd.Bob), alicePad));
    }
}
