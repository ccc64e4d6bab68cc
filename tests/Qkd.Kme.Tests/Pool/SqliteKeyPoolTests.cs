using Qkd.Kme.Pool;

namespace Qkd.Kme.Tests.Pool;

/// <summary>The delivery rules of IKeyPool on the SQLite pool, with both ends of one link fed the same blocks.</summary>
public sealed class SqliteKeyPoolTests : IDisposable
{
    private readonly KeyPoolTestBed _bed = new();

    public void Dispose() => _bed.Dispose();

    [Fact]
    public void Both_ends_fed_the_same_blocks_agree_on_ids_and_bytes_and_split_the_keys_between_them()
    {
        using var alice = _bed.Open(KmeRole.Alice);
        using var bob = _bed.Open(KmeRole.Bob);
        for (int b = 0; b < 3; b++) KeyPoolTestBed.Feed(b, KeyPoolTestBed.Block(b, keys: 11, extraBits: 100), alice, bob);

        var a = alice.ReadAllForAudit().ToDictionary(k => k.Id);
        var z = bob.ReadAllForAudit().ToDictionary(k => k.Id);
        Assert.Equal(33, a.Count);
        Assert.Equal(a.Keys.Order(), z.Keys.Order());
        foreach (var (id, key) in a)
        {
            Assert.Equal(key.Key, z[id].Key);
            Assert.NotEqual(key.IsMaster, z[id].IsMaster); // exactly one end is master of each key
        }
        for (int i = 0; i < 11; i++)
        {
            var id = KeyIds.For(KeyPoolTestBed.LinkId, 1, i);
            Assert.Equal(i % 2 == 0, a[id].IsMaster);
        }
        // The key bytes are the block's bits in order: key 3 of block 1 is bytes 96..128.
        var block1 = KeyPoolTestBed.Block(1, 11, 100).ToBytes();
        Assert.Equal(block1[96..128], a[KeyIds.For(KeyPoolTestBed.LinkId, 1, 3)].Key);

        Assert.Equal(18, alice.AvailableAsMaster); // indices 0,2,..,10 of 3 blocks
        Assert.Equal(15, alice.HeldForPeer);
        Assert.Equal(15, bob.AvailableAsMaster);
        Assert.Equal(18, bob.HeldForPeer);
        var stats = alice.Statistics;
        Assert.Equal(3, stats.BlocksStored);
        Assert.Equal(33, stats.KeysStored);
        Assert.Equal(300, stats.RemainderBitsDropped);
        Assert.True(stats.IsConsistent);
    }

    [Fact]
    public void Enc_keys_then_reservation_then_dec_keys_gives_the_same_bytes_exactly_once()
    {
        using var alice = _bed.Open(KmeRole.Alice);
        using var bob = _bed.Open(KmeRole.Bob);
        KeyPoolTestBed.Feed(7, KeyPoolTestBed.Block(7, 20), alice, bob);

        var enc = alice.TakeAsMaster("sae-1", "sae-2", 4);
        Assert.Equal(4, enc.Count);
        Assert.Equal(6, alice.AvailableAsMaster);
        // In ID order of arrival: the block's even keys 0, 2, 4, 6.
        Assert.Equal(new[] { 0, 2, 4, 6 }.Select(i => KeyIds.For(KeyPoolTestBed.LinkId, 7, i)), enc.Select(k => k.Id));

        var ids = enc.Select(k => k.Id).ToArray();
        bob.RecordPeerReservation("sae-1", "sae-2", ids);
        var dec = bob.TakeAsSlave("sae-1", "sae-2", ids);
        Assert.Equal(ids, dec.Select(k => k.Id));
        for (int i = 0; i < 4; i++) Assert.Equal(enc[i].Key, dec[i].Key);
        Assert.Equal(6, bob.HeldForPeer);

        var again = Assert.Throws<KeyNotFoundException>(() => bob.TakeAsSlave("sae-1", "sae-2", ids));
        Assert.Contains("already delivered", again.Message);
        Assert.Equal(4, alice.Statistics.KeysDeliveredAsMaster);
        Assert.Equal(4, bob.Statistics.KeysDeliveredAsSlave);
        Assert.Equal(4, bob.Statistics.ReservationsRecorded);
    }

    [Fact]
    public void Bob_is_master_of_the_odd_keys_and_Alice_decrypts_them()
    {
        using var alice = _bed.Open(KmeRole.Alice);
        using var bob = _bed.Open(KmeRole.Bob);
        KeyPoolTestBed.Feed(1, KeyPoolTestBed.Block(1, 6), alice, bob);

        var enc = bob.TakeAsMaster("sae-b", "sae-a", 3);
        Assert.Equal(new[] { 1, 3, 5 }.Select(i => KeyIds.For(KeyPoolTestBed.LinkId, 1, i)), enc.Select(k => k.Id));
        alice.RecordPeerReservation("sae-b", "sae-a", enc.Select(k => k.Id).ToArray());
        var dec = alice.TakeAsSlave("sae-b", "sae-a", enc.Select(k => k.Id).ToArray());
        for (int i = 0; i < 3; i++) Assert.Equal(enc[i].Key, dec[i].Key);
        Assert.Throws<KeyPoolExhaustedException>(() => bob.TakeAsMaster("sae-b", "sae-a", 1));
    }

    [Fact]
    public void Dec_keys_before_the_reservation_arrives_is_refused_and_works_once_it_does()
    {
        using var alice = _bed.Open(KmeRole.Alice);
        using var bob = _bed.Open(KmeRole.Bob);
        KeyPoolTestBed.Feed(0, KeyPoolTestBed.Block(0, 4), alice, bob);
        var ids = alice.TakeAsMaster("m", "s", 2).Select(k => k.Id).ToArray();

        var e = Assert.Throws<KeyNotFoundException>(() => bob.TakeAsSlave("m", "s", ids));
        Assert.Contains("not (yet) reserved for SAE s", e.Message);
        Assert.Equal(2, bob.HeldForPeer);

        bob.RecordPeerReservation("m", "s", ids);
        bob.RecordPeerReservation("m", "s", ids); // repeated after a reconnect: no effect
        Assert.Equal(2, bob.TakeAsSlave("m", "s", ids).Count);
    }

    [Fact]
    public void A_reservation_may_arrive_before_the_block_is_stored_here()
    {
        using var alice = _bed.Open(KmeRole.Alice);
        using var bob = _bed.Open(KmeRole.Bob);
        var block = KeyPoolTestBed.Block(3, 4);
        alice.Accept(3, block);
        var enc = alice.TakeAsMaster("m", "s", 1);
        bob.RecordPeerReservation("m", "s", [enc[0].Id]);

        var e = Assert.Throws<KeyNotFoundException>(() => bob.TakeAsSlave("m", "s", [enc[0].Id]));
        Assert.Contains("not yet stored", e.Message);

        bob.Accept(3, block);
        Assert.Equal(enc[0].Key, bob.TakeAsSlave("m", "s", [enc[0].Id])[0].Key);
    }

    [Fact]
    public void A_wrong_SAE_gets_KeyNotFound_and_nothing_is_taken()
    {
        using var alice = _bed.Open(KmeRole.Alice);
        using var bob = _bed.Open(KmeRole.Bob);
        KeyPoolTestBed.Feed(0, KeyPoolTestBed.Block(0, 8), alice, bob);
        var ids = alice.TakeAsMaster("m", "s", 3).Select(k => k.Id).ToArray();
        bob.RecordPeerReservation("m", "s", ids);

        Assert.Contains("not reserved for SAE intruder", Assert.Throws<KeyNotFoundException>(() => bob.TakeAsSlave("m", "intruder", ids)).Message);
        Assert.Throws<KeyNotFoundException>(() => bob.TakeAsSlave("other-master", "s", ids));
        // One good ID and one unknown: all or nothing.
        Assert.Throws<KeyNotFoundException>(() => bob.TakeAsSlave("m", "s", [ids[0], Guid.NewGuid()]));
        Assert.Throws<ArgumentException>(() => bob.TakeAsSlave("m", "s", [ids[0], ids[0]]));

        Assert.Equal(4, bob.HeldForPeer);
        Assert.Equal(0, bob.Statistics.KeysDeliveredAsSlave);
        Assert.Equal(3, bob.TakeAsSlave("m", "s", ids).Count);
    }

    [Fact]
    public void A_key_cannot_be_reserved_for_two_SAE_pairs()
    {
        using var alice = _bed.Open(KmeRole.Alice);
        using var bob = _bed.Open(KmeRole.Bob);
        KeyPoolTestBed.Feed(0, KeyPoolTestBed.Block(0, 8), alice, bob);
        var ids = alice.TakeAsMaster("m", "s", 2).Select(k => k.Id).ToArray();
        bob.RecordPeerReservation("m", "s", [ids[0]]);

        Assert.Throws<ReservationRefusedException>(() => bob.RecordPeerReservation("m", "other", [ids[1], ids[0]]));
        Assert.Equal(1, bob.Statistics.PeerReservationsPending); // ids[1] was not recorded either
        Assert.Equal(new Dictionary<string, long> { ["s"] = 1 }, bob.PendingReservationsBySlaveSae());
    }

    [Fact]
    public void Asking_for_more_keys_than_available_throws_exhausted_and_takes_nothing()
    {
        using var alice = _bed.Open(KmeRole.Alice);
        alice.Accept(0, KeyPoolTestBed.Block(0, 10));
        var e = Assert.Throws<KeyPoolExhaustedException>(() => alice.TakeAsMaster("m", "s", 6));
        Assert.Equal(6, e.Requested);
        Assert.Equal(5, e.Available);
        Assert.Equal(5, alice.AvailableAsMaster);
        Assert.Equal(5, alice.TakeAsMaster("m", "s", 5).Count);
        Assert.Throws<KeyPoolExhaustedException>(() => alice.TakeAsMaster("m", "s", 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => alice.TakeAsMaster("m", "s", 0));
    }

    [Fact]
    public void A_block_offered_twice_is_stored_once()
    {
        using var alice = _bed.Open(KmeRole.Alice);
        var block = KeyPoolTestBed.Block(0, 10);
        alice.Accept(5, block);
        alice.Accept(5, block);
        Assert.Equal(5, alice.AvailableAsMaster);
        Assert.Equal(1, alice.Statistics.BlocksDuplicate);
        Assert.Equal(10, alice.Statistics.KeysStored);

        var e = Assert.Throws<InvalidOperationException>(() => alice.Accept(5, KeyPoolTestBed.Block(0, 12)));
        Assert.Contains("block 5 is already stored", e.Message);
        Assert.Equal(5, alice.AvailableAsMaster);
        Assert.True(alice.HasBlock(5));
        Assert.False(alice.HasBlock(6));
    }

    [Fact]
    public void A_block_that_does_not_fit_under_MaxKeyCount_is_dropped_and_counted()
    {
        using var alice = _bed.Open(KmeRole.Alice, maxKeys: 25);
        alice.Accept(0, KeyPoolTestBed.Block(0, 20));
        alice.Accept(1, KeyPoolTestBed.Block(1, 10));
        alice.Accept(2, KeyPoolTestBed.Block(2, 4, extraBits: 7));
        var s = alice.Statistics;
        Assert.Equal(24, s.AvailableAsMaster + s.HeldForPeer);
        Assert.Equal(10, s.KeysDroppedFull);
        Assert.Equal(1, s.BlocksDroppedFull);
        Assert.Equal(2, s.BlocksStored);
        Assert.Equal(7, s.RemainderBitsDropped);
        Assert.True(alice.HasBlock(1)); // decided once: a retry of the dropped block stays dropped
        Assert.True(s.IsConsistent);
    }

    [Fact]
    public void Concurrent_enc_keys_never_hand_out_the_same_key_twice()
    {
        using var alice = _bed.Open(KmeRole.Alice);
        for (int b = 0; b < 4; b++) alice.Accept(b, KeyPoolTestBed.Block(b, 200));
        var before = alice.ReadAllForAudit().Where(k => k.IsMaster).Select(k => k.Id).ToHashSet();
        Assert.Equal(400, before.Count);

        var delivered = new System.Collections.Concurrent.ConcurrentBag<Guid>();
        int exhausted = 0;
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, t =>
        {
            var random = new Random(t);
            while (true)
            {
                try
                {
                    foreach (var k in alice.TakeAsMaster($"m{t}", "s", random.Next(1, 8))) delivered.Add(k.Id);
                }
                catch (KeyPoolExhaustedException)
                {
                    if (alice.AvailableAsMaster == 0) break;
                    Interlocked.Increment(ref exhausted);
                }
            }
        });

        var after = alice.ReadAllForAudit().Where(k => k.IsMaster).Select(k => k.Id).ToHashSet();
        Assert.Equal(delivered.Count, delivered.Distinct().Count());
        Assert.Empty(after);
        Assert.Equal(before.Order(), delivered.Order());
        Assert.Equal(400, alice.Statistics.KeysDeliveredAsMaster);
    }

    [Fact]
    public void Reopening_the_same_file_keeps_keys_reservations_and_counters()
    {
        Guid[] ids;
        byte[][] keys;
        using (var alice = _bed.Open(KmeRole.Alice))
        using (var bob = _bed.Open(KmeRole.Bob))
        {
            KeyPoolTestBed.Feed(0, KeyPoolTestBed.Block(0, 10, extraBits: 5), alice, bob);
            var enc = alice.TakeAsMaster("m", "s", 2);
            ids = enc.Select(k => k.Id).ToArray();
            keys = enc.Select(k => k.Key).ToArray();
            bob.RecordPeerReservation("m", "s", ids);
        }

        using (var alice = _bed.Open(KmeRole.Alice))
        using (var bob = _bed.Open(KmeRole.Bob))
        {
            Assert.Equal(3, alice.AvailableAsMaster);
            Assert.Equal(5, bob.HeldForPeer);
            Assert.Equal(2, alice.Statistics.KeysDeliveredAsMaster);
            Assert.Equal(5, alice.Statistics.RemainderBitsDropped);
            Assert.Equal(2, bob.Statistics.PeerReservationsPending);
            var dec = bob.TakeAsSlave("m", "s", ids);
            Assert.Equal(keys, dec.Select(k => k.Key));
            alice.Accept(0, KeyPoolTestBed.Block(0, 10, extraBits: 5)); // a retry after the restart duplicates nothing
            Assert.Equal(3, alice.AvailableAsMaster);
        }
    }

    [Fact]
    public void Key_material_never_appears_in_the_clear_in_the_database_files()
    {
        var plain = new List<byte[]>();
        using (var alice = _bed.Open(KmeRole.Alice))
        {
            for (int b = 0; b < 5; b++)
            {
                var block = KeyPoolTestBed.Block(100 + b, 50);
                alice.Accept(b, block);
                var bytes = block.ToBytes();
                for (int i = 0; i < 50; i++) plain.Add(bytes[(i * 32)..((i + 1) * 32)]);
            }
            alice.TakeAsMaster("m", "s", 30);
            AssertNoneInFiles(plain); // while open: the WAL holds the recent pages
        }
        AssertNoneInFiles(plain); // after the checkpoint at close
    }

    private void AssertNoneInFiles(List<byte[]> keys)
    {
        foreach (var file in Directory.GetFiles(_bed.Dir))
        {
            byte[] content;
            using (var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
            using (var memory = new MemoryStream())
            {
                stream.CopyTo(memory);
                content = memory.ToArray();
            }
            // Any 8 consecutive key bytes would be a leak; 8 random bytes turn up by chance with probability ~2^-50.
            foreach (var key in keys)
                for (int offset = 0; offset + 8 <= key.Length; offset += 8)
                    Assert.True(content.AsSpan().IndexOf(key.AsSpan(offset, 8)) < 0, $"{Path.GetFileName(file)} holds key bytes in the clear");
        }
    }

    [Fact]
    public void The_pool_refuses_a_store_of_another_link_role_or_key_size()
    {
        using (_bed.Open(KmeRole.Alice)) { }
        var options = _bed.Options(KmeRole.Alice);
        Assert.Contains("belongs to link", Assert.Throws<InvalidOperationException>(() => new SqliteKeyPool(options with { LinkId = "other" }, _bed.Key)).Message);
        Assert.Contains("created for the Alice end", Assert.Throws<InvalidOperationException>(() => new SqliteKeyPool(options with { Role = KmeRole.Bob }, _bed.Key)).Message);
        Assert.Contains("128", Assert.Throws<InvalidOperationException>(() => new SqliteKeyPool(options with { KeySizeBits = 128 }, _bed.Key)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new SqliteKeyPool(options with { DatabasePath = Path.Combine(_bed.Dir, "x.db"), KeySizeBits = 100 }, _bed.Key));
    }

    [Fact]
    public void Operations_after_dispose_throw()
    {
        var alice = _bed.Open(KmeRole.Alice);
        alice.Dispose();
        Assert.Throws<ObjectDisposedException>(() => alice.TakeAsMaster("m", "s", 1));
    }
}
