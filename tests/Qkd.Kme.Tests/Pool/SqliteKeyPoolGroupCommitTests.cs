using System.Collections.Concurrent;
using Qkd.Kme.Pool;

namespace Qkd.Kme.Tests.Pool;

/// <summary>
/// Group commit in the SQLite pool: concurrent delivery operations share one transaction, yet each caller gets exactly
/// its own outcome, a failing operation takes nothing and spoils nothing for the others, and no key is handed twice.
/// </summary>
public sealed class SqliteKeyPoolGroupCommitTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly KeyPoolTestBed _bed = new();

    public void Dispose() => _bed.Dispose();

    private static Guid Id(int index) => KeyIds.For(KeyPoolTestBed.LinkId, 0, index);

    [Fact]
    public void One_batch_of_mixed_operations_gives_each_caller_its_own_result_or_its_own_exception()
    {
        var block = KeyPoolTestBed.Block(7, 20); // Bob masters the odd keys 1..19, holds the even ones for Alice
        var audit = new Dictionary<Guid, byte[]>();
        using (var alice = _bed.Open(KmeRole.Alice))
        {
            alice.Accept(0, block);
            foreach (var k in alice.ReadAllForAudit()) audit[k.Id] = k.Key;
        }
        using var bob = _bed.Open(KmeRole.Bob);
        bob.Accept(0, block);
        int batchesBefore = (int)bob.BatchesCommitted;

        // The first operation becomes the writer and stalls on the pool's lock; every later one queues behind it, in
        // the order started, so all of them form the second batch.
        var ops = new List<(string Name, Func<object?> Run)>
        {
            ("first writer", () => { bob.RecordPeerReservation("a", "b", [Id(4)]); return null; }),
            ("enc 2", () => bob.TakeAsMaster("bm", "bs", 2)),
            ("enc too many", () => bob.TakeAsMaster("bm", "bs", 100)),
            ("enc rest", () => bob.TakeAsMaster("bm", "bs", 8)),
            ("enc none left", () => bob.TakeAsMaster("bm", "bs", 1)),
            ("reserve 0 2", () => { bob.RecordPeerReservation("a", "b", [Id(0), Id(2)]); return null; }),
            ("dec 0 2", () => bob.TakeAsSlave("a", "b", [Id(0), Id(2)])),
            ("dec 0 again", () => bob.TakeAsSlave("a", "b", [Id(0)])),
            ("dec 4 wrong SAE", () => bob.TakeAsSlave("a", "intruder", [Id(4)])),
            ("reserve 6 and a taken 4", () => { bob.RecordPeerReservation("a", "c", [Id(6), Id(4)]); return null; }),
            ("dec 6", () => bob.TakeAsSlave("a", "c", [Id(6)])),
            ("dec 4", () => bob.TakeAsSlave("a", "b", [Id(4)])),
            ("dec twice in one request", () => bob.TakeAsSlave("a", "b", [Id(8), Id(8)])),
            ("reserve 8", () => { bob.RecordPeerReservation("a", "b", [Id(8)]); return null; }),
            ("dec 8", () => bob.TakeAsSlave("a", "b", [Id(8)])),
        };
        var outcomes = new Outcome[ops.Count];
        var threads = new List<Thread>();
        int queued = -1; // the first writer took its batch of one and stalls; the others wait in the queue
        using (bob.StallWriterForTest())
        {
            for (int i = 0; i < ops.Count; i++)
            {
                int index = i;
                var thread = new Thread(() => outcomes[index] = Outcome.Of(ops[index].Run)) { IsBackground = true };
                thread.Start();
                threads.Add(thread);
                if (ops[i].Name == "dec twice in one request")
                {
                    // Refused before it is queued.
                    Assert.True(thread.Join(Patience));
                    continue;
                }
                queued++;
                WaitUntil(() => bob.WriteQueueState == (true, queued));
            }
        }
        foreach (var thread in threads) Assert.True(thread.Join(Patience));

        Assert.Equal(batchesBefore + 2, bob.BatchesCommitted);
        var byName = ops.Select((op, i) => (op.Name, outcomes[i])).ToDictionary(x => x.Name, x => x.Item2);

        Assert.Null(byName["first writer"].Failure);
        Assert.Equal([Id(1), Id(3)], byName["enc 2"].KeyIds);
        var tooMany = Assert.IsType<KeyPoolExhaustedException>(byName["enc too many"].Failure);
        Assert.Equal(8, tooMany.Available); // counts what the operations before it in the batch left
        Assert.Equal([Id(5), Id(7), Id(9), Id(11), Id(13), Id(15), Id(17), Id(19)], byName["enc rest"].KeyIds);
        Assert.Equal(0, Assert.IsType<KeyPoolExhaustedException>(byName["enc none left"].Failure).Available);
        Assert.Null(byName["reserve 0 2"].Failure);
        Assert.Equal([Id(0), Id(2)], byName["dec 0 2"].KeyIds);
        Assert.IsType<KeyNotFoundException>(byName["dec 0 again"].Failure);
        Assert.IsType<KeyNotFoundException>(byName["dec 4 wrong SAE"].Failure);
        Assert.IsType<ReservationRefusedException>(byName["reserve 6 and a taken 4"].Failure);
        Assert.IsType<KeyNotFoundException>(byName["dec 6"].Failure); // its reservation was rolled back with the failed operation
        Assert.Equal([Id(4)], byName["dec 4"].KeyIds);
        Assert.IsType<ArgumentException>(byName["dec twice in one request"].Failure);
        Assert.Equal([Id(8)], byName["dec 8"].KeyIds);

        // Every delivered key carries the bytes Alice's end holds for that ID.
        foreach (var outcome in outcomes.Where(o => o.Keys is not null))
            foreach (var key in outcome.Keys!)
                if (audit.TryGetValue(key.Id, out var expected)) Assert.Equal(expected, key.Key);

        var s = bob.Statistics;
        Assert.True(s.IsConsistent, s.ToString());
        Assert.Equal(10, s.KeysDeliveredAsMaster);
        Assert.Equal(4, s.KeysDeliveredAsSlave);
        Assert.Equal(0, s.AvailableAsMaster);
        Assert.Equal(6, s.HeldForPeer);
        Assert.Equal(0, s.PeerReservationsPending);
        var left = bob.ReadAllForAudit().Select(k => k.Id).ToHashSet();
        Assert.Equal(new[] { 6, 10, 12, 14, 16, 18 }.Select(Id).ToHashSet(), left);
    }

    [Fact]
    public void Concurrent_pairs_with_failing_operations_deliver_every_key_once_to_its_own_caller()
    {
        const int blocks = 3, keysPerBlock = 100; // 150 keys mastered by Alice
        using var alice = _bed.Open(KmeRole.Alice);
        using var bob = _bed.Open(KmeRole.Bob);
        for (int b = 0; b < blocks; b++) KeyPoolTestBed.Feed(b, KeyPoolTestBed.Block(100 + b, keysPerBlock), alice, bob);

        var encDelivered = new ConcurrentBag<(Guid Id, byte[] Key, int Client)>();
        var decDelivered = new ConcurrentBag<(Guid Id, byte[] Key, int Client)>();
        var unexpected = new ConcurrentQueue<string>();
        int clients = 12;
        var threads = Enumerable.Range(0, clients).Select(c => new Thread(() =>
        {
            var random = new Random(c);
            string master = $"m{c}", slave = $"s{c}";
            while (true)
            {
                IReadOnlyList<DeliveredKey> keys;
                try
                {
                    // Now and then ask for far too many: refused, takes nothing, spoils nothing for the others.
                    keys = alice.TakeAsMaster(master, slave, random.Next(10) == 0 ? 1000 : random.Next(1, 4));
                }
                catch (KeyPoolExhaustedException e)
                {
                    if (e.Requested < 1000 && alice.AvailableAsMaster == 0) return;
                    continue;
                }
                foreach (var k in keys) encDelivered.Add((k.Id, k.Key, c));
                var ids = keys.Select(k => k.Id).ToArray();

                // A slave SAE asking before the reservation, and one asking for keys reserved for another: both refused.
                Expect<KeyNotFoundException>(() => bob.TakeAsSlave(master, slave, ids), "dec before reservation");
                bob.RecordPeerReservation(master, slave, ids);
                Expect<KeyNotFoundException>(() => bob.TakeAsSlave(master, $"other{c}", ids), "dec by another SAE");
                Expect<ReservationRefusedException>(() => { bob.RecordPeerReservation("intruder", slave, ids); return null; }, "conflicting reservation");
                foreach (var k in bob.TakeAsSlave(master, slave, ids)) decDelivered.Add((k.Id, k.Key, c));
                Expect<KeyNotFoundException>(() => bob.TakeAsSlave(master, slave, ids), "dec twice");
            }
        }) { IsBackground = true }).ToList();

        foreach (var t in threads) t.Start();
        foreach (var t in threads) Assert.True(t.Join(TimeSpan.FromMinutes(2)));
        Assert.Empty(unexpected);

        Assert.Equal(encDelivered.Count, encDelivered.Select(k => k.Id).Distinct().Count());
        Assert.Equal(decDelivered.Count, decDelivered.Select(k => k.Id).Distinct().Count());
        Assert.Equal(blocks * keysPerBlock / 2, encDelivered.Count);
        // Each key went to the same client at both ends, with the same bytes.
        var enc = encDelivered.ToDictionary(k => k.Id);
        Assert.Equal(enc.Count, decDelivered.Count);
        foreach (var d in decDelivered)
        {
            Assert.Equal(enc[d.Id].Client, d.Client);
            Assert.Equal(enc[d.Id].Key, d.Key);
        }

        foreach (var pool in new[] { alice, bob })
        {
            var s = pool.Statistics;
            Assert.True(s.IsConsistent, s.ToString());
            Assert.Equal(0, s.PeerReservationsPending);
        }
        Assert.Equal(blocks * keysPerBlock / 2, alice.Statistics.KeysDeliveredAsMaster);
        Assert.Equal(blocks * keysPerBlock / 2, bob.Statistics.KeysDeliveredAsSlave);
        Assert.DoesNotContain(alice.ReadAllForAudit(), k => k.IsMaster);
        Assert.DoesNotContain(bob.ReadAllForAudit(), k => !k.IsMaster);

        void Expect<TException>(Func<object?> run, string what) where TException : Exception
        {
            var outcome = Outcome.Of(run);
            if (outcome.Failure is not TException)
                unexpected.Enqueue($"{what}: expected {typeof(TException).Name}, got {outcome.Failure?.GetType().Name ?? "success"}");
        }
    }

    [Fact]
    public void A_reservation_naming_a_key_twice_records_it_once_and_a_refused_one_records_none_of_its_keys()
    {
        using var bob = _bed.Open(KmeRole.Bob);
        bob.Accept(0, KeyPoolTestBed.Block(9, 8)); // Bob holds the even keys for Alice

        bob.RecordPeerReservation("a", "b", [Id(0), Id(2), Id(0)]);
        Assert.Equal(2, bob.Statistics.PeerReservationsPending);
        // Key 2 is reserved for another pair: the whole reservation is refused, key 4 is not recorded either.
        Assert.Throws<ReservationRefusedException>(() => bob.RecordPeerReservation("a", "c", [Id(4), Id(2)]));
        Assert.Throws<KeyNotFoundException>(() => bob.TakeAsSlave("a", "c", [Id(4)]));
        Assert.Equal([Id(0), Id(2)], bob.TakeAsSlave("a", "b", [Id(0), Id(2)]).Select(k => k.Id));
        var s = bob.Statistics;
        Assert.True(s.IsConsistent, s.ToString());
        Assert.Equal(0, s.PeerReservationsPending);
    }

    private static void WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("the write queue never reached the expected state");
            Thread.Sleep(1);
        }
    }

    private sealed record Outcome(IReadOnlyList<DeliveredKey>? Keys, Exception? Failure)
    {
        public IReadOnlyList<Guid>? KeyIds => Keys?.Select(k => k.Id).ToArray();

        public static Outcome Of(Func<object?> run)
        {
            try
            {
                return new Outcome(run() as IReadOnlyList<DeliveredKey>, null);
            }
            catch (Exception e)
            {
                return new Outcome(null, e);
            }
        }
    }
}
