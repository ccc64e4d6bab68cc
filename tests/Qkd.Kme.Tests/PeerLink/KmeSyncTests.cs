using Microsoft.Extensions.Logging.Abstractions;
using Qkd.Core.Bits;
using Qkd.Core.Channel;
using Qkd.Kme.Pool;
using Qkd.Kme.Tests.Delivery;
using Qkd.Kme.PeerLink;
using Qkd.ClassicalChannel;

namespace Qkd.Kme.Tests.PeerLink;

/// <summary>
/// Two KMEs' reservation sync over one classical channel: Alice's enc_keys reservations reach Bob's pool, each
/// answered Recorded or Refused by its own ID while many are being recorded at once.
/// </summary>
public sealed class KmeSyncTests : IDisposable
{
    private const string Master = "sae-alice-1", Slave = "sae-bob-1";
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("kmesync-");

    public void Dispose() => _directory.Delete(recursive: true);

    /// <summary>Bob's pool with every record held at a gate, to see how many are in flight and to release them at will.</summary>
    private sealed class GatedPool(IKeyPool inner) : IKeyPool
    {
        public readonly TaskCompletionSource Gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public readonly TaskCompletionSource ReachedTarget = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Target = int.MaxValue;
        public int Started, Finished, InFlight, MaxInFlight;

        public async ValueTask RecordPeerReservationAsync(string masterSaeId, string slaveSaeId, IReadOnlyList<Guid> keyIds)
        {
            int now = Interlocked.Increment(ref InFlight);
            int max;
            while (now > (max = Volatile.Read(ref MaxInFlight)) && Interlocked.CompareExchange(ref MaxInFlight, now, max) != max) { }
            if (Interlocked.Increment(ref Started) >= Target) ReachedTarget.TrySetResult();
            try
            {
                await Gate.Task;
                await inner.RecordPeerReservationAsync(masterSaeId, slaveSaeId, keyIds);
            }
            finally
            {
                Interlocked.Decrement(ref InFlight);
                Interlocked.Increment(ref Finished);
            }
        }

        public KmeRole Role => inner.Role;
        public int KeySizeBits => inner.KeySizeBits;
        public long MaxKeyCount => inner.MaxKeyCount;
        public long AvailableAsMaster => inner.AvailableAsMaster;
        public long HeldForPeer => inner.HeldForPeer;
        public void Accept(long blockId, PackedBits key) => inner.Accept(blockId, key);
        public IReadOnlyList<DeliveredKey> TakeAsMaster(string masterSaeId, string slaveSaeId, int count) => inner.TakeAsMaster(masterSaeId, slaveSaeId, count);
        public void RecordPeerReservation(string masterSaeId, string slaveSaeId, IReadOnlyList<Guid> keyIds) =>
            RecordPeerReservationAsync(masterSaeId, slaveSaeId, keyIds).AsTask().GetAwaiter().GetResult();
        public IReadOnlyList<DeliveredKey> TakeAsSlave(string masterSaeId, string slaveSaeId, IReadOnlyList<Guid> keyIds) => inner.TakeAsSlave(masterSaeId, slaveSaeId, keyIds);
        public void Dispose() => inner.Dispose();
    }

    private static void Feed(IKeyPool alice, IKeyPool bob, int blocks, int keysPerBlock)
    {
        var random = new Random(7);
        for (long b = 0; b < blocks; b++)
        {
            byte[] bytes = new byte[keysPerBlock * KmeLink.KeySizeBits / 8];
            random.NextBytes(bytes);
            alice.Accept(b, PackedBits.FromBytes(bytes, bytes.Length * 8L));
            bob.Accept(b, PackedBits.FromBytes(bytes, bytes.Length * 8L));
        }
    }

    /// <summary>enc_keys at Alice's KME: takes keys as master and waits until Bob's KME has recorded them.</summary>
    private static async Task<IReadOnlyList<DeliveredKey>> EncKeys(IKeyPool alice, KmeSync sync, int count, string slave = Slave)
    {
        var keys = await alice.TakeAsMasterAsync(Master, slave, count);
        var outcome = await sync.ReserveAsync(Master, slave, keys.Select(k => new ReservedKey(k.Id, k.BlockId)).ToArray(), CancellationToken.None);
        if (outcome != ReservationOutcome.Recorded) throw new InvalidOperationException($"the peer answered {outcome}");
        return keys;
    }

    [Fact]
    public async Task ManyConcurrentReservationsAreAllRecordedAndAnswered()
    {
        using var alice = TestPools.Sqlite(_directory.FullName)(KmeRole.Alice);
        using var bob = TestPools.Sqlite(_directory.FullName)(KmeRole.Bob);
        Feed(alice, bob, blocks: 4, keysPerBlock: 512);
        var (aliceEnd, bobEnd) = InMemoryClassicalChannel.CreatePair();
        await using var aliceSync = new KmeSync(aliceEnd, alice, NullLogger.Instance);
        await using var bobSync = new KmeSync(bobEnd, bob, NullLogger.Instance);

        const int requests = 400;
        var delivered = await Task.WhenAll(Enumerable.Range(0, requests).Select(i => Task.Run(() => EncKeys(alice, aliceSync, 1 + i % 2))));

        Assert.Equal(requests, aliceSync.ReservationsSent);
        Assert.Equal(requests, bobSync.ReservationsRecorded);
        // Batched: never more messages than reservations plus the Hello (fewer whenever requests overlapped).
        Assert.InRange(aliceSync.MessagesSent, 1, requests + 1);
        Assert.Equal(0, bobSync.ReservationsRefused);
        // Every reservation is durable at Bob's KME: the slave SAE redeems each key, with the master's bytes.
        foreach (var keys in delivered)
        {
            var same = await bob.TakeAsSlaveAsync(Master, Slave, keys.Select(k => k.Id).ToArray());
            Assert.Equal(keys.Select(k => (k.Id, Convert.ToHexString(k.Key))), same.Select(k => (k.Id, Convert.ToHexString(k.Key))));
        }
    }

    [Fact]
    public async Task ARefusedReservationIsAnsweredRefusedWhileTheOthersAreRecorded()
    {
        using var alice = TestPools.Sqlite(_directory.FullName)(KmeRole.Alice);
        using var bob = TestPools.Sqlite(_directory.FullName)(KmeRole.Bob);
        Feed(alice, bob, blocks: 2, keysPerBlock: 256);
        var (aliceEnd, bobEnd) = InMemoryClassicalChannel.CreatePair();
        await using var aliceSync = new KmeSync(aliceEnd, alice, NullLogger.Instance);
        await using var bobSync = new KmeSync(bobEnd, bob, NullLogger.Instance);

        // A key already reserved for this SAE pair: reserving it again for another slave SAE is refused.
        var taken = await EncKeys(alice, aliceSync, 1);
        const int requests = 100, refusedAt = 37;
        var tasks = Enumerable.Range(0, requests).Select(i => Task.Run(async () =>
        {
            if (i != refusedAt) return await EncKeys(alice, aliceSync, 1);
            var outcome = await aliceSync.ReserveAsync(Master, "sae-bob-2", [new ReservedKey(taken[0].Id, taken[0].BlockId)], CancellationToken.None);
            throw new InvalidOperationException($"the peer {outcome.ToString().ToLowerInvariant()} it");
        })).ToArray();
        await Assert.ThrowsAnyAsync<Exception>(async () => await Task.WhenAll(tasks));

        for (int i = 0; i < requests; i++)
        {
            if (i == refusedAt)
            {
                var e = await Assert.ThrowsAsync<InvalidOperationException>(() => tasks[i]);
                Assert.Contains("refused", e.Message, StringComparison.OrdinalIgnoreCase);
            }
            else
            {
                var keys = await tasks[i];
                Assert.Single(await bob.TakeAsSlaveAsync(Master, Slave, [keys[0].Id]));
            }
        }
        Assert.Equal(requests, bobSync.ReservationsRecorded); // the 99 and the first
        Assert.Single(await bob.TakeAsSlaveAsync(Master, Slave, [taken[0].Id])); // still the first pair's
        Assert.Equal(1, bobSync.ReservationsRefused);
    }

    [Fact]
    public async Task ReservationsInFlightAreBoundedAndAllAnsweredOnceTheStoreCatchesUp()
    {
        var alice = TestPools.InMemory(KmeRole.Alice);
        using var bob = new GatedPool(TestPools.InMemory(KmeRole.Bob)) { Target = KmeSync.MaxInFlight };
        Feed(alice, bob, blocks: 4, keysPerBlock: 1024);
        var (aliceEnd, bobEnd) = InMemoryClassicalChannel.CreatePair();
        await using var aliceSync = new KmeSync(aliceEnd, alice, NullLogger.Instance);
        await using var bobSync = new KmeSync(bobEnd, bob, NullLogger.Instance);

        int requests = KmeSync.MaxInFlight + 100;
        var tasks = Enumerable.Range(0, requests).Select(_ => EncKeys(alice, aliceSync, 1)).ToArray();
        await bob.ReachedTarget.Task.WaitAsync(TimeSpan.FromSeconds(30));
        // The receive loop stops reading at the cap: the rest wait in the channel, not as work on the store.
        Assert.Equal(KmeSync.MaxInFlight, Volatile.Read(ref bob.InFlight));
        bob.Gate.SetResult();
        await Task.WhenAll(tasks);

        Assert.Equal(KmeSync.MaxInFlight, bob.MaxInFlight);
        Assert.Equal(requests, bobSync.ReservationsRecorded);
        alice.Dispose();
    }

    [Fact]
    public async Task DisposeWaitsForTheRecordsInFlight()
    {
        var alice = TestPools.InMemory(KmeRole.Alice);
        using var bob = new GatedPool(TestPools.InMemory(KmeRole.Bob)) { Target = 10 };
        Feed(alice, bob, blocks: 1, keysPerBlock: 64);
        var (aliceEnd, bobEnd) = InMemoryClassicalChannel.CreatePair();
        var aliceSync = new KmeSync(aliceEnd, alice, NullLogger.Instance);
        var bobSync = new KmeSync(bobEnd, bob, NullLogger.Instance);

        var tasks = Enumerable.Range(0, 10).Select(_ => EncKeys(alice, aliceSync, 1)).ToArray();
        await bob.ReachedTarget.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var disposing = bobSync.DisposeAsync().AsTask();
        Assert.False(disposing.IsCompleted); // ten records still at the gate
        bob.Gate.SetResult();
        await disposing;
        Assert.Equal(10, Volatile.Read(ref bob.Finished));
        await aliceSync.DisposeAsync();
        // Answers after stopping are dropped: every enc_keys fails (the link closed), none is left hanging.
        foreach (var task in tasks) await Assert.ThrowsAnyAsync<Exception>(() => task);
        alice.Dispose();
    }
}
