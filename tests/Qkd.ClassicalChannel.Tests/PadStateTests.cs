using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Qkd.Core.Channel;

namespace Qkd.ClassicalChannel.Tests;

/// <summary>
/// The pad's guarantees through real channels: a lost or restored state stops its node and is refused by the peer,
/// replenishment stays equal when a session breaks half way, one channel's frames are refused on the other, differing
/// secrets are named at both ends, and nothing large is allocated for an unauthenticated frame.
/// </summary>
public sealed class PadStateTests : IDisposable
{
    private readonly TestPads _pads = new(padBytes: 256 * 1024);
    private readonly CancellationTokenSource _timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);

    public PadStateTests() => _timeout.CancelAfter(TimeSpan.FromSeconds(120));

    private CancellationToken Token => _timeout.Token;

    public void Dispose() => _pads.Dispose();

    private static byte[] Message(int i) => [.. BitConverter.GetBytes(i), .. new byte[i % 50]];

    /// <summary>Alice and Bob exchange <paramref name="count"/> messages each way on a fresh pair of channels.</summary>
    private async Task TalkAsync(AuthenticationPadStore alicePad, AuthenticationPadStore bobPad, int count)
    {
        var (alice, bob) = _pads.Pair(alicePad, bobPad);
        await using var a = alice;
        await using var b = bob;
        for (int i = 0; i < count; i++)
        {
            await alice.SendAsync(Message(i), Token);
            Assert.Equal(Message(i), (await bob.ReceiveAsync(Token)).ToArray());
            await bob.SendAsync(Message(i), Token);
            Assert.Equal(Message(i), (await alice.ReceiveAsync(Token)).ToArray());
        }
    }

    public static TheoryData<ChannelEnd, string> StaleCases() => new()
    {
        { ChannelEnd.Alice, "deleted" },
        { ChannelEnd.Alice, "restored" },
        { ChannelEnd.Bob, "deleted" },
        { ChannelEnd.Bob, "restored" },
    };

    [Theory]
    [MemberData(nameof(StaleCases))]
    public async Task An_end_whose_pad_state_was_deleted_or_restored_stops_refuses_to_open_again_and_the_peer_refuses_it(ChannelEnd staleEnd, string how)
    {
        string backup = _pads.StateOf(staleEnd, "-backup");
        using (var alicePad = _pads.Open(ChannelEnd.Alice))
        using (var bobPad = _pads.Open(ChannelEnd.Bob))
        {
            await TalkAsync(alicePad, bobPad, 5);
            TestPads.ReplenishBoth(alicePad, bobPad, 1, TestPads.Replenishment(groups: 8));
        }
        CopyDirectory(_pads.StateOf(staleEnd), backup);
        using (var alicePad = _pads.Open(ChannelEnd.Alice))
        using (var bobPad = _pads.Open(ChannelEnd.Bob))
        {
            // Well past the backup's reservation at both ends, and a replenishment the backup does not know.
            await TalkAsync(alicePad, bobPad, AuthenticationPadStore.ReserveBatch + 20);
            TestPads.ReplenishBoth(alicePad, bobPad, 2, TestPads.Replenishment(groups: 8));
        }
        Directory.Delete(_pads.StateOf(staleEnd), recursive: true);
        if (how == "restored") CopyDirectory(backup, _pads.StateOf(staleEnd));

        using var stalePad = _pads.Open(staleEnd);
        using var livePad = _pads.Open(staleEnd == ChannelEnd.Alice ? ChannelEnd.Bob : ChannelEnd.Alice);
        var (alice, bob) = staleEnd == ChannelEnd.Alice ? _pads.Pair(stalePad, livePad) : _pads.Pair(livePad, stalePad);
        await using (alice)
        await using (bob)
        {
            var stale = staleEnd == ChannelEnd.Alice ? alice : bob;
            var live = staleEnd == ChannelEnd.Alice ? bob : alice;
            string message = await stalePad.Stale.WaitAsync(Token);
            Assert.Contains("older than the peer's", message);
            Assert.Contains("Re-provision a fresh pre-shared secret at both ends", message);
            await WaitUntil(() => stale.CloseReason == ChannelCloseReason.PadStale);
            var closed = await Assert.ThrowsAsync<ClassicalChannelClosedException>(async () => await stale.ReceiveAsync(Token));
            Assert.Contains("Re-provision", closed.Message);
            Assert.True(live.Security.StalePeers >= 1, live.Security.ToString());
            Assert.False(live.IsConnected);
            Assert.Equal(ChannelCloseReason.None, live.CloseReason); // the live end keeps waiting for a genuine peer
            Assert.Throws<AuthenticationPadStaleException>(() => stalePad.TakeSendIndex(ChannelKind.KmeLink));
        }
        stalePad.Dispose();
        var e = Assert.Throws<AuthenticationPadStaleException>(() => _pads.Open(staleEnd));
        Assert.Contains("Re-provision", e.Message);
    }

    [Fact]
    public async Task A_session_cut_between_Bob_s_and_Alice_s_replenishment_leaves_the_pads_equal()
    {
        using var alicePad = _pads.Open(ChannelEnd.Alice);
        using var bobPad = _pads.Open(ChannelEnd.Bob);
        var first = TestPads.Replenishment(groups: 4);
        {
            ManInTheMiddleProxy? proxy = null;
            var (alice, bob) = _pads.Pair(alicePad, bobPad, bobEndpoint => (proxy = new ManInTheMiddleProxy(bobEndpoint)).Endpoint);
            await using var _ = proxy!;
            await using var a = alice;
            await using var b = bob;
            await alice.SendAsync(Message(1), Token);
            Assert.Equal(Message(1), (await bob.ReceiveAsync(Token)).ToArray());
            // Bob stores the block's replenishment, then his BlockDone (and everything after it) never reaches Alice.
            Assert.True(bobPad.AddPending(1, first));
            proxy!.DropTowardsAlice = true;
            await bob.SendAsync(Message(2), Token);
            proxy.DropConnections();
        } // the session breaks: both channels closed, Alice never stored the block
        Assert.Equal([1L], bobPad.PendingBlocks);
        Assert.Empty(alicePad.PendingBlocks);

        // The next session: its handshake compares the two pads and applies nothing one end lacks.
        await TalkAsync(alicePad, bobPad, 3);
        Assert.Empty(bobPad.AppliedBlocks);
        Assert.Empty(alicePad.AppliedBlocks);
        Assert.Equal(alicePad.ChunksAvailable(ChannelKind.Session, ChannelEnd.Bob), bobPad.ChunksAvailable(ChannelKind.Session, ChannelEnd.Bob));

        // A block both ends stored joins both pads at the next handshake, the orphan never.
        var second = TestPads.Replenishment(groups: 4);
        Assert.True(bobPad.AddPending(2, second));
        Assert.True(alicePad.AddPending(2, second));
        await TalkAsync(alicePad, bobPad, 3);
        Assert.Equal([2L], bobPad.AppliedBlocks);
        Assert.Equal([2L], alicePad.AppliedBlocks);
        long chunks = alicePad.ChunksAvailable(ChannelKind.Session, ChannelEnd.Alice);
        Assert.Equal(chunks, bobPad.ChunksAvailable(ChannelKind.Session, ChannelEnd.Alice));
        var mine = new byte[16];
        var theirs = new byte[16];
        for (long i = chunks - 12; i < chunks; i++)
        {
            Assert.True(alicePad.TryReadPad(ChannelKind.Session, ChannelEnd.Alice, i, 1, mine));
            Assert.True(bobPad.TryReadPad(ChannelKind.Session, ChannelEnd.Alice, i, 1, theirs));
            Assert.Equal(mine, theirs);
        }
        // And the new key and pad authenticate traffic both ways.
        await TalkAsync(alicePad, bobPad, 3);
    }

    [Fact]
    public async Task A_hello_replayed_from_the_session_channel_into_the_kme_link_is_refused_counted_and_the_link_lives_on()
    {
        using var alicePad = _pads.Open(ChannelEnd.Alice);
        using var bobPad = _pads.Open(ChannelEnd.Bob);
        // The KME link, live.
        await using var kmeBob = new TcpClassicalChannel(TestPads.Listener() with { Channel = ChannelKind.KmeLink }, bobPad);
        await using var kmeAlice = new TcpClassicalChannel(TestPads.Connector(kmeBob.LocalEndpoint!) with { Channel = ChannelKind.KmeLink }, alicePad);
        await kmeAlice.SendAsync(Message(1), Token);
        Assert.Equal(Message(1), (await kmeBob.ReceiveAsync(Token)).ToArray());
        // A session channel whose Hello an eavesdropper records.
        byte[] hello;
        {
            ManInTheMiddleProxy? proxy = null;
            var (alice, bob) = _pads.Pair(alicePad, bobPad, bobEndpoint => (proxy = new ManInTheMiddleProxy(bobEndpoint)).Endpoint);
            await using var _ = proxy!;
            await using var a = alice;
            await using var b = bob;
            await alice.SendAsync(Message(2), Token);
            Assert.Equal(Message(2), (await bob.ReceiveAsync(Token)).ToArray());
            hello = proxy!.TowardsBob.First(f => f[5] == (byte)FrameType.Hello);
        }
        // Shown to the KME link's listener on a connection of its own.
        using (var replay = new Socket(SocketType.Stream, ProtocolType.Tcp))
        {
            await replay.ConnectAsync(kmeBob.LocalEndpoint!, Token);
            await replay.SendAsync(hello, SocketFlags.None, Token);
            await WaitUntil(() => kmeBob.Security.CrossChannel == 1);
        }
        Assert.Equal(ChannelCloseReason.None, kmeBob.CloseReason);
        Assert.Equal(0, kmeBob.Security.Forgeries);
        await kmeAlice.SendAsync(Message(3), Token);
        Assert.Equal(Message(3), (await kmeBob.ReceiveAsync(Token)).ToArray());
        await kmeBob.SendAsync(Message(4), Token);
        Assert.Equal(Message(4), (await kmeAlice.ReceiveAsync(Token)).ToArray());
        Assert.Equal(0, kmeAlice.Security.Reconnects);
    }

    [Fact]
    public async Task An_oversized_unauthenticated_frame_costs_no_large_allocation_and_idle_connections_are_limited()
    {
        using var alicePad = _pads.Open(ChannelEnd.Alice);
        using var bobPad = _pads.Open(ChannelEnd.Bob);
        await using var bob = new TcpClassicalChannel(TestPads.Listener() with { HandshakeTimeout = TimeSpan.FromMinutes(5) }, bobPad);
        long before = GC.GetTotalAllocatedBytes(precise: true);
        using (var attacker = new Socket(SocketType.Stream, ProtocolType.Tcp))
        {
            await attacker.ConnectAsync(bob.LocalEndpoint!, Token);
            var prefix = new byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(prefix, 256 << 20);
            await attacker.SendAsync(prefix, SocketFlags.None, Token);
            await WaitUntil(() => bob.Security.Malformed == 1);
            // Closed at once (an orderly end or a reset, as the race with our own write falls).
            try { Assert.Equal(0, await attacker.ReceiveAsync(new byte[1], SocketFlags.None, Token)); }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset) { }
        }
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.True(allocated < 16 << 20, $"{allocated:N0} bytes allocated for a frame announcing 256 MiB");

        // Idle connections that never authenticate: only MaxUnauthenticatedConnections are held, the rest closed at once.
        var idle = new List<Socket>();
        try
        {
            for (int i = 0; i < 10; i++)
            {
                var s = new Socket(SocketType.Stream, ProtocolType.Tcp);
                idle.Add(s);
                try { await s.ConnectAsync(bob.LocalEndpoint!, Token); }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset) { } // refused already
            }
            await WaitUntil(() => bob.Security.ConnectionsRefused == 10 - TestPads.Listener().MaxUnauthenticatedConnections);
        }
        finally
        {
            foreach (var s in idle) s.Close(0);
        }
        // Once they are gone, a genuine peer connects.
        await using var alice = new TcpClassicalChannel(TestPads.Connector(bob.LocalEndpoint!), alicePad);
        await alice.SendAsync(Message(1), Token);
        Assert.Equal(Message(1), (await bob.ReceiveAsync(Token)).ToArray());
    }

    [Fact]
    public async Task A_message_larger_than_a_fragment_travels_as_several_authenticated_frames()
    {
        using var alicePad = _pads.Open(ChannelEnd.Alice);
        using var bobPad = _pads.Open(ChannelEnd.Bob);
        var (alice, bob) = _pads.Pair(alicePad, bobPad);
        await using var a = alice;
        await using var b = bob;
        var large = System.Security.Cryptography.RandomNumberGenerator.GetBytes(3 * TcpClassicalChannelOptions.MaxFragmentBytes + 5);
        await alice.SendAsync(Message(6), Token);
        Assert.Equal(Message(6), (await bob.ReceiveAsync(Token)).ToArray()); // connected: no handshake tags from here on
        long tags = alice.Security.TagsCreated;
        await alice.SendAsync(large, Token);
        await alice.SendAsync(Message(7), Token);
        Assert.Equal(large, (await bob.ReceiveAsync(Token)).ToArray());
        Assert.Equal(Message(7), (await bob.ReceiveAsync(Token)).ToArray());
        Assert.Equal(tags + 5, alice.Security.TagsCreated); // four fragments and the small message
        Assert.Equal(3, bob.Statistics.MessagesReceived);
    }

    public static TheoryData<string> FlippedBytes() => ["hash key", "middle", "last"];

    [Theory]
    [MemberData(nameof(FlippedBytes))]
    public async Task Pre_shared_secrets_that_differ_in_one_byte_are_named_at_both_ends_at_the_first_handshake(string where)
    {
        using var other = new TestPads(padBytes: 256 * 1024);
        var secret = File.ReadAllBytes(_pads.SecretPath);
        int at = where switch { "hash key" => 3, "middle" => secret.Length / 2, _ => secret.Length - 1 };
        secret[at] ^= 0x20;
        File.WriteAllBytes(other.SecretPath, secret);
        using var alicePad = _pads.Open(ChannelEnd.Alice);
        using var bobPad = other.Open(ChannelEnd.Bob);
        var aliceLog = new CapturingLogger();
        var bobLog = new CapturingLogger();
        await using var bob = new TcpClassicalChannel(TestPads.Listener(), bobPad, bobLog);
        await using var alice = new TcpClassicalChannel(TestPads.Connector(bob.LocalEndpoint!) with { SecretMismatchRetryDelay = TimeSpan.FromHours(1) }, alicePad, aliceLog);
        await WaitUntil(() => alice.SecretMismatch && bob.SecretMismatch);
        const string named = "the pre-shared secrets of the two ends differ";
        Assert.True(aliceLog.Logged(LogLevel.Error, named), string.Join('\n', aliceLog.Entries));
        Assert.True(bobLog.Logged(LogLevel.Error, named), string.Join('\n', bobLog.Entries));
        Assert.False(alice.IsConnected);
        // Named once, not at every attempt: with the slowed retry there is no second attempt within the test.
        Assert.Equal(1, aliceLog.Entries.Count(e => e.Level == LogLevel.Error));
    }

    [Fact]
    public async Task A_peer_that_completed_and_moved_on_to_its_next_session_ends_this_one_as_information_not_an_error()
    {
        using var alicePad = _pads.Open(ChannelEnd.Alice);
        using var bobPad = _pads.Open(ChannelEnd.Bob);
        var aliceLog = new CapturingLogger();
        var bob = new TcpClassicalChannel(TestPads.Listener(), bobPad);
        var endpoint = bob.LocalEndpoint!;
        await using var alice = new TcpClassicalChannel(TestPads.Connector(endpoint), alicePad, aliceLog);
        await alice.SendAsync(Message(1), Token);
        Assert.Equal(Message(1), (await bob.ReceiveAsync(Token)).ToArray());
        // Bob's distiller finishes first: End, and his node moves on to its next session on the same port, while
        // Alice's node is still busy (her emission) and has not completed her side yet.
        bob.Complete();
        await Assert.ThrowsAsync<ClassicalChannelClosedException>(async () => await alice.ReceiveAsync(Token));
        await bob.DisposeAsync();
        await using var nextBob = new TcpClassicalChannel(TestPads.Listener() with { ListenEndpoint = endpoint }, bobPad);
        await WaitUntil(() => alice.CloseReason == ChannelCloseReason.Finished);
        Assert.DoesNotContain(aliceLog.Entries, e => e.Level >= LogLevel.Warning);
        Assert.True(aliceLog.Logged(LogLevel.Information, "has moved on"));
    }

    private async Task WaitUntil(Func<bool> condition)
    {
        while (!condition()) await Task.Delay(10, Token);
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }
    }
}
