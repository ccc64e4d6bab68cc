using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Qkd.ClassicalChannel;
using Qkd.Core.Bits;
using Qkd.Kme.PeerLink;
using Qkd.Kme.Pool;

namespace Qkd.Kme.Tests.PeerLink;

/// <summary>
/// Two KMEs as the node composes them: a durable pool (SQLite, synchronous=FULL), the pad store, and the KME link over
/// real TCP classical channels that <see cref="PeerKmeLink"/> reopens whenever a session ends. An end "restarts" by
/// closing everything and opening it again on the same files and port, as a restarted process does (the process
/// tests in Qkd.Cli.Tests stop and kill real nodes).
/// </summary>
public sealed class PeerKmeLinkTests : IAsyncDisposable
{
    private const string AliceSae = "sae-alice-1", BobSae = "sae-bob-1";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly string _root = Directory.CreateTempSubdirectory("qkd-kmelink-").FullName;
    private readonly string _secret;
    private readonly List<KmeEnd> _ends = [];
    private readonly IPEndPoint _bobAddress = FreeLoopbackPort();

    public PeerKmeLinkTests()
    {
        _secret = Path.Combine(_root, "pre-shared.secret");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite };
        using (var f = new FileStream(_secret, options))
            f.Write(RandomNumberGenerator.GetBytes(AuthenticationPadStore.HashKeyBytes + (1 << 20)));
        OperatorKey.WriteNewKeyFile(Path.Combine(_root, "Alice.key"));
        OperatorKey.WriteNewKeyFile(Path.Combine(_root, "Bob.key"));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var end in _ends) await end.DisposeAsync();
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    /// <summary>One KME: its pool, pad and link. Bob listens (on the same port across restarts), Alice connects.</summary>
    private sealed class KmeEnd : IAsyncDisposable
    {
        public required SqliteKeyPool Pool { get; init; }
        public required AuthenticationPadStore Pad { get; init; }
        public required PeerKmeLink Link { get; init; }
        private bool _disposed;

        public async ValueTask DisposeAsync()
        {
            if (_disposed) return;
            _disposed = true;
            await Link.DisposeAsync();
            Pool.Dispose();
            Pad.Dispose();
        }
    }

    private KmeEnd Start(KmeRole role, TimeProvider? time = null, TimeSpan? expiry = null)
    {
        using var key = OperatorKey.FromFile(Path.Combine(_root, $"{role}.key"));
        var pool = new SqliteKeyPool(new SqliteKeyPoolOptions
        {
            DatabasePath = Path.Combine(_root, $"{role}.db"),
            LinkId = "link-test",
            Role = role,
            TimeProvider = time ?? TimeProvider.System,
            ReservationExpiry = expiry ?? SqliteKeyPoolOptions.DefaultReservationExpiry,
            // The sweep runs when the test says (below); dec_keys refuses an expired key either way.
            ExpirySweepInterval = TimeSpan.FromDays(1),
        }, key);
        var end = role == KmeRole.Alice ? ChannelEnd.Alice : ChannelEnd.Bob;
        var pad = AuthenticationPadStore.Open(_secret, Path.Combine(_root, $"state-{role}"), end);
        KmeLinkChannel Open()
        {
            var options = new TcpClassicalChannelOptions
            {
                LocalEnd = end,
                ListenEndpoint = role == KmeRole.Bob ? _bobAddress : null,
                ConnectEndpoint = role == KmeRole.Alice ? _bobAddress : null,
                InitialReconnectDelay = TimeSpan.FromMilliseconds(10),
                MaxReconnectDelay = TimeSpan.FromMilliseconds(200),
                AckDelay = TimeSpan.FromMilliseconds(20),
                CloseLinger = TimeSpan.FromSeconds(1),
            };
            var channel = new TcpClassicalChannel(options, pad);
            return new KmeLinkChannel(channel, () => channel.IsConnected, channel.DisposeAsync);
        }
        var link = new PeerKmeLink(Open(), Open, pool, NullLogger.Instance, new PeerKmeLinkOptions
        {
            MinReopenDelay = TimeSpan.FromMilliseconds(20),
            MaxReopenDelay = TimeSpan.FromMilliseconds(200),
            TimeProvider = time ?? TimeProvider.System,
        });
        var kme = new KmeEnd { Pool = pool, Pad = pad, Link = link };
        _ends.Add(kme);
        return kme;
    }

    /// <summary>Bob's KME link port, the same for every session and restart (Alice may start first and wait for it).</summary>
    private static IPEndPoint FreeLoopbackPort()
    {
        var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var endpoint = (IPEndPoint)listener.LocalEndpoint;
        listener.Stop();
        return endpoint;
    }

    private static void Feed(params KmeEnd[] ends)
    {
        var random = new Random(11);
        for (long b = 0; b < 2; b++)
        {
            byte[] bytes = new byte[64 * 32];
            random.NextBytes(bytes);
            foreach (var end in ends) end.Pool.Accept(b, PackedBits.FromBytes(bytes, bytes.Length * 8L));
        }
    }

    /// <summary>enc_keys as the server does it: take as master, then the link must confirm the reservation.</summary>
    private static async Task<IReadOnlyList<DeliveredKey>> EncKeys(KmeEnd master, string masterSae, string slaveSae, int count = 1)
    {
        var keys = await master.Pool.TakeAsMasterAsync(masterSae, slaveSae, count);
        await master.Link.NotifyAsync(masterSae, slaveSae, keys.Select(k => new ReservedKey(k.Id, k.BlockId)).ToArray(), Ct);
        return keys;
    }

    /// <summary>
    /// Waits until every answered reservation has left <paramref name="end"/>'s outbox. The link removes an entry in the
    /// background once the peer has answered (enc_keys does not wait for that write), so the count reaches 0 a moment
    /// after the answer; it must get there, and stay consistent, however loaded the machine is.
    /// </summary>
    private static async Task OutboxEmptiedAsync(KmeEnd end)
    {
        var giveUp = System.Diagnostics.Stopwatch.StartNew();
        while (end.Pool.Statistics.ReservationsOutstanding != 0)
        {
            Assert.True(giveUp.Elapsed < TimeSpan.FromSeconds(90),
                $"{end.Pool.Statistics.ReservationsOutstanding} answered reservation(s) still in the outbox after 90 s");
            await Task.Delay(20, Ct);
        }
    }

    /// <summary>A pair in each direction: Alice's master SAE to Bob's slave SAE, and Bob's master SAE to Alice's slave SAE.</summary>
    private static async Task PairsBothWays(KmeEnd alice, KmeEnd bob)
    {
        foreach (var (master, slave, masterSae, slaveSae) in new[] { (alice, bob, AliceSae, BobSae), (bob, alice, BobSae, AliceSae) })
        {
            var keys = await EncKeys(master, masterSae, slaveSae, 2);
            var same = await slave.Pool.TakeAsSlaveAsync(masterSae, slaveSae, keys.Select(k => k.Id).ToArray());
            Assert.Equal(keys.Select(k => Convert.ToHexString(k.Key)), same.Select(k => Convert.ToHexString(k.Key)));
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task The_link_heals_by_itself_after_either_end_restarts_and_reservations_flow_both_ways()
    {
        var bob = Start(KmeRole.Bob);
        var alice = Start(KmeRole.Alice);
        Feed(alice, bob);
        long aliceSession = await alice.Link.WaitUntilUpAsync(Ct);
        long bobSession = await bob.Link.WaitUntilUpAsync(Ct);
        await PairsBothWays(alice, bob);

        // Alice restarts; Bob is not touched: his session ends (the peer lost its state) and he opens the next one.
        await alice.DisposeAsync();
        alice = Start(KmeRole.Alice);
        await alice.Link.WaitUntilUpAsync(Ct);
        bobSession = await bob.Link.WaitUntilUpAsync(Ct, afterSession: bobSession);
        await PairsBothWays(alice, bob);

        // Bob restarts; Alice is not touched.
        aliceSession = alice.Link.CurrentSession;
        await bob.DisposeAsync();
        bob = Start(KmeRole.Bob);
        await bob.Link.WaitUntilUpAsync(Ct);
        await alice.Link.WaitUntilUpAsync(Ct, afterSession: aliceSession);
        await PairsBothWays(alice, bob);

        Assert.True(alice.Pool.Statistics.IsConsistent, alice.Pool.Statistics.ToString());
        Assert.True(bob.Pool.Statistics.IsConsistent, bob.Pool.Statistics.ToString());
        await OutboxEmptiedAsync(alice);
        await OutboxEmptiedAsync(bob);
    }

    [Fact(Timeout = 120_000)]
    public async Task Enc_keys_while_the_link_is_down_fails_and_the_reservation_reaches_the_peer_when_it_is_back()
    {
        var alice = Start(KmeRole.Alice);
        Feed(alice);
        Assert.False(alice.Link.IsPeerReachable);
        // Keys taken just as the link went down (the server checks first, but the link can drop in between).
        var taken = await alice.Pool.TakeAsMasterAsync(AliceSae, BobSae, 3);
        await Assert.ThrowsAnyAsync<Exception>(async () =>
            await alice.Link.NotifyAsync(AliceSae, BobSae, taken.Select(k => new ReservedKey(k.Id, k.BlockId)).ToArray(), Ct));
        Assert.Equal(1, alice.Pool.Statistics.ReservationsOutstanding);

        // Bob's KME comes up with the same blocks (its pool got them while the link was down).
        var bob = Start(KmeRole.Bob);
        Feed(bob);
        await alice.Link.WaitUntilUpAsync(Ct);

        await OutboxEmptiedAsync(alice);
        Assert.Equal(3, bob.Pool.Statistics.PeerReservationsPending);
        // Deliverable at Bob's KME with Alice's bytes, once.
        var same = await bob.Pool.TakeAsSlaveAsync(AliceSae, BobSae, taken.Select(k => k.Id).ToArray());
        Assert.Equal(taken.Select(k => Convert.ToHexString(k.Key)), same.Select(k => Convert.ToHexString(k.Key)));
        await Assert.ThrowsAsync<KeyNotFoundException>(async () => await bob.Pool.TakeAsSlaveAsync(AliceSae, BobSae, [taken[0].Id]));
    }

    [Fact(Timeout = 120_000)]
    public async Task A_reservation_cut_half_way_is_reconciled_and_never_brings_a_key_back()
    {
        var bob = Start(KmeRole.Bob);
        var alice = Start(KmeRole.Alice);
        Feed(alice, bob);
        await alice.Link.WaitUntilUpAsync(Ct);
        await bob.Link.WaitUntilUpAsync(Ct);

        // Cut half-way: Bob's KME recorded the reservation (its commit is durable) but Alice's never got the answer
        // (Bob's process ended first). Alice still has it in her outbox, so enc_keys failed there.
        var recordedOnly = await alice.Pool.TakeAsMasterAsync(AliceSae, BobSae, 2);
        await bob.Pool.RecordPeerReservationAsync(AliceSae, BobSae, recordedOnly.Select(k => new ReservedKey(k.Id, k.BlockId)).ToArray());
        // And one Bob recorded and whose slave SAE even redeemed the key (by its ID) before the answer reached Alice.
        var redeemed = await alice.Pool.TakeAsMasterAsync(AliceSae, BobSae, 1);
        await bob.Pool.RecordPeerReservationAsync(AliceSae, BobSae, [new ReservedKey(redeemed[0].Id, redeemed[0].BlockId)]);
        Assert.Single(await bob.Pool.TakeAsSlaveAsync(AliceSae, BobSae, [redeemed[0].Id]));
        // And one that never reached Bob at all.
        var lost = await alice.Pool.TakeAsMasterAsync(AliceSae, BobSae, 1);
        Assert.Equal(3, alice.Pool.Statistics.ReservationsOutstanding);

        long aliceSession = alice.Link.CurrentSession;
        await bob.DisposeAsync();
        bob = Start(KmeRole.Bob);
        await alice.Link.WaitUntilUpAsync(Ct, afterSession: aliceSession);
        await bob.Link.WaitUntilUpAsync(Ct);

        // Every reservation reached Bob once: nothing outstanding, the redeemed key not brought back.
        Assert.Equal(0, alice.Pool.Statistics.ReservationsOutstanding);
        Assert.Equal(3, bob.Pool.Statistics.PeerReservationsPending);
        var keys = recordedOnly.Concat(lost).ToArray();
        var same = await bob.Pool.TakeAsSlaveAsync(AliceSae, BobSae, keys.Select(k => k.Id).ToArray());
        Assert.Equal(keys.Select(k => Convert.ToHexString(k.Key)), same.Select(k => Convert.ToHexString(k.Key)));
        await Assert.ThrowsAsync<KeyNotFoundException>(async () => await bob.Pool.TakeAsSlaveAsync(AliceSae, BobSae, [redeemed[0].Id]));
        var s = bob.Pool.Statistics;
        Assert.True(s.IsConsistent, s.ToString());
        Assert.Equal(alice.Pool.AvailableAsMaster, bob.Pool.HeldForPeer - s.PeerReservationsPending); // nothing stranded at Bob
    }

    [Fact(Timeout = 120_000)]
    public async Task Keys_no_slave_SAE_redeems_expire_at_both_ends_alike()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var expiry = TimeSpan.FromMinutes(10);
        var bob = Start(KmeRole.Bob, time, expiry);
        var alice = Start(KmeRole.Alice, time, expiry);
        Feed(alice, bob);
        await alice.Link.WaitUntilUpAsync(Ct);
        await bob.Link.WaitUntilUpAsync(Ct);
        long aliceHeld = alice.Pool.HeldForPeer, bobHeld = bob.Pool.HeldForPeer;

        // Reserved in both directions; then, just before expiry, one more each way.
        var toBob = await EncKeys(alice, AliceSae, BobSae, 3);
        var toAlice = await EncKeys(bob, BobSae, AliceSae, 2);
        time.Advance(expiry - TimeSpan.FromMinutes(1));
        var lateToBob = await EncKeys(alice, AliceSae, BobSae, 1);
        var lateToAlice = await EncKeys(bob, BobSae, AliceSae, 1);
        time.Advance(TimeSpan.FromMinutes(1));

        // Expired: refused by dec_keys at once at both ends, before any sweep ran.
        var e = await Assert.ThrowsAsync<KeyNotFoundException>(async () => await bob.Pool.TakeAsSlaveAsync(AliceSae, BobSae, [toBob[0].Id]));
        Assert.Contains("expired", e.Message);
        e = await Assert.ThrowsAsync<KeyNotFoundException>(async () => await alice.Pool.TakeAsSlaveAsync(BobSae, AliceSae, [toAlice[0].Id]));
        Assert.Contains("expired", e.Message);

        // The sweep deletes them with their keys at each end.
        Assert.Equal((3L, 3L), await bob.Pool.ExpireReservationsAsync());
        Assert.Equal((2L, 2L), await alice.Pool.ExpireReservationsAsync());
        foreach (var (end, expired, held, left) in new[] { (bob, 3L, bobHeld, 1L), (alice, 2L, aliceHeld, 1L) })
        {
            var s = end.Pool.Statistics;
            Assert.True(s.IsConsistent, s.ToString());
            Assert.Equal(expired, s.KeysExpired);
            Assert.Equal(left, s.PeerReservationsPending);
            Assert.Equal(held - expired, end.Pool.HeldForPeer);
            Assert.Equal(0, s.ReservationsOutstanding); // nothing for them at the master's end either
        }
        // The master's end no longer holds these keys (handed out at enc_keys): gone at both ends.
        Assert.DoesNotContain(alice.Pool.ReadAllForAudit(), k => toBob.Any(t => t.Id == k.Id));
        Assert.DoesNotContain(bob.Pool.ReadAllForAudit(), k => toBob.Any(t => t.Id == k.Id) || toAlice.Any(t => t.Id == k.Id));
        Assert.DoesNotContain(alice.Pool.ReadAllForAudit(), k => toAlice.Any(t => t.Id == k.Id));

        // Those reserved later are still deliverable until their own time is up.
        Assert.Single(await bob.Pool.TakeAsSlaveAsync(AliceSae, BobSae, [lateToBob[0].Id]));
        Assert.Single(await alice.Pool.TakeAsSlaveAsync(BobSae, AliceSae, [lateToAlice[0].Id]));
    }
}
