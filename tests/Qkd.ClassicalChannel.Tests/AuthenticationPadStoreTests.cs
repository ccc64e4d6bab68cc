using CsCheck;
using Qkd.ClassicalChannel;

namespace Qkd.ClassicalChannel.Tests;

public sealed class AuthenticationPadStoreTests : IDisposable
{
    private const int Tags = 30; // session tags per direction in the small pad
    private readonly TestPads _pads = new(padBytes: TestPads.PadBytesForSessionTags(Tags));

    public void Dispose() => _pads.Dispose();

    private static long Take(AuthenticationPadStore store, ChannelKind channel = ChannelKind.Session) => store.TakeSendIndex(channel).Index;

    private static byte[] Read(AuthenticationPadStore store, ChannelEnd sender, long index, ChannelKind channel = ChannelKind.Session, long epoch = 0)
    {
        var pad = new byte[16];
        Assert.True(store.TryReadPad(channel, sender, index, epoch, pad));
        return pad;
    }

    [Fact]
    public void A_secret_readable_by_others_is_refused_with_a_clear_error()
    {
        File.SetUnixFileMode(_pads.SecretPath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        var e = Assert.Throws<UnauthorizedAccessException>(() => _pads.Open(ChannelEnd.Alice));
        Assert.Contains("0600", e.Message);
        Assert.Contains(_pads.SecretPath, e.Message);
        Assert.False(Directory.Exists(_pads.StateOf(ChannelEnd.Alice)));
    }

    [Fact]
    public void A_missing_or_short_secret_is_refused()
    {
        Assert.Throws<FileNotFoundException>(() => AuthenticationPadStore.Open(_pads.SecretPath + ".nope", _pads.StateOf(ChannelEnd.Alice), ChannelEnd.Alice));
        File.WriteAllBytes(_pads.SecretPath, new byte[20]);
        var e = Assert.Throws<InvalidDataException>(() => _pads.Open(ChannelEnd.Alice));
        Assert.Contains("20 bytes", e.Message);
    }

    [Fact]
    public void Lanes_and_notice_reserves_never_share_a_chunk_whatever_the_secret_size()
    {
        Gen.Int[AuthenticationPadStore.MinimumSecretBytes - AuthenticationPadStore.HashKeyBytes, 200_000].Sample(padBytes =>
        {
            using var pads = new TestPads(padBytes);
            using var alice = pads.Open(ChannelEnd.Alice);
            var secret = File.ReadAllBytes(pads.SecretPath);
            var seen = new HashSet<string>();
            foreach (var channel in Enum.GetValues<ChannelKind>())
            foreach (var end in Enum.GetValues<ChannelEnd>())
                for (long i = 0; i < alice.ChunksAvailable(channel, end); i++)
                {
                    long offset = AuthenticationPadStore.HashKeyBytes + AuthenticationPadStore.StreamChunk(channel, end, i) * 16;
                    Assert.True(seen.Add($"{offset}"), $"{channel} {end} {i} shares offset {offset}");
                    Assert.Equal(secret.AsSpan((int)offset, 16).ToArray(), Read(alice, end, i, channel));
                }
            var notice = new byte[16];
            for (long i = 0; alice.TryReadNoticePad(ChannelEnd.Alice, i, notice); i++)
            {
                var bobs = new byte[16];
                Assert.True(alice.TryReadNoticePad(ChannelEnd.Bob, i, bobs));
                foreach (var chunk in new[] { notice, bobs })
                {
                    int at = secret.AsSpan().IndexOf(chunk); // random 16-byte chunks: found exactly where they lie
                    Assert.True(at >= 0 && seen.Add($"{at}"), $"notice chunk {i} overlaps a lane");
                }
            }
            // The session channel gets three chunks of each group per direction, the KME link one.
            Assert.Equal(3 * alice.ChunksAvailable(ChannelKind.KmeLink, ChannelEnd.Alice), alice.ChunksAvailable(ChannelKind.Session, ChannelEnd.Bob));
        }, iter: 40);
    }

    [Fact]
    public void Exhaustion_is_a_clear_error_and_nothing_is_reused()
    {
        using var alice = _pads.Open(ChannelEnd.Alice);
        var used = new HashSet<long>();
        for (int i = 0; i < Tags; i++) Assert.True(used.Add(Take(alice)));
        var e = Assert.Throws<AuthenticationPadExhaustedException>(() => Take(alice));
        Assert.Contains("exhausted", e.Message);
        // The KME link's lane is its own: still there.
        Assert.Equal(0, Take(alice, ChannelKind.KmeLink));
        Assert.Equal((Tags / 3 - 1) * 128, alice.Account.RemainingBits);
    }

    [Fact]
    public void A_restart_resumes_past_the_durable_reservation()
    {
        using (var alice = _pads.Open(ChannelEnd.Alice))
        {
            Take(alice);
            Take(alice);
        }
        // Reopened (a new process): the cursor moved past everything that might have been used, here the whole
        // first reservation (every chunk of this small pad), so nothing is left rather than anything reused.
        using var again = _pads.Open(ChannelEnd.Alice);
        Assert.Throws<AuthenticationPadExhaustedException>(() => Take(again));
    }

    [Fact]
    public void A_restart_with_a_large_pad_skips_exactly_the_reserved_batch()
    {
        using var pads = new TestPads(padBytes: 4 * AuthenticationPadStore.ReserveBatch * 128);
        using (var alice = pads.Open(ChannelEnd.Alice))
            for (int i = 0; i < 3; i++) Take(alice);
        using var again = pads.Open(ChannelEnd.Alice);
        Assert.Equal(AuthenticationPadStore.ReserveBatch, Take(again));
        Assert.Equal(0, Take(again, ChannelKind.KmeLink));
    }

    [Fact]
    public void Replenishment_joins_the_pad_only_once_both_ends_hold_it_and_survives_a_restart()
    {
        var block = TestPads.Replenishment(groups: 2);
        using (var alice = _pads.Open(ChannelEnd.Alice))
        using (var bob = _pads.Open(ChannelEnd.Bob))
        {
            for (int i = 0; i < Tags; i++) Take(alice);
            Assert.True(bob.AddPending(7, block));
            Assert.False(bob.AddPending(7, block)); // same block again (a node restarted mid-block): ignored
            // Alice does not hold it: nothing joins either pad.
            Assert.Equal(PadAgreementVerdict.Agreed, bob.Reconcile(ChannelKind.Session, alice.Position(ChannelKind.Session)).Verdict);
            Assert.Equal(0, bob.AppliedReplenishments);
            Assert.Equal([7L], bob.PendingBlocks);
            Assert.True(alice.AddPending(7, block));
            // Hello: Bob sees Alice holds it too and applies; Welcome: Alice sees Bob applied it and applies; Resume: Bob
            // learns she has (only then does he seal with the new key and pad).
            Assert.Equal(1, bob.Reconcile(ChannelKind.Session, alice.Position(ChannelKind.Session)).Applied);
            Assert.Equal(1, alice.Reconcile(ChannelKind.Session, bob.Position(ChannelKind.Session)).Applied);
            Assert.Equal(0, bob.Reconcile(ChannelKind.Session, alice.Position(ChannelKind.Session)).Applied);
            // The material joined the stream: two more groups, six more session chunks per direction, read alike at both ends.
            Assert.Equal(Tags + 6, alice.ChunksAvailable(ChannelKind.Session, ChannelEnd.Alice));
            Assert.Equal(Read(bob, ChannelEnd.Alice, Tags + 1, epoch: 1), Read(alice, ChannelEnd.Alice, Tags + 1, epoch: 1));
            Assert.Equal(block.AsSpan(16 + 16 * 2, 16).ToArray(), Read(alice, ChannelEnd.Alice, Tags + 1, epoch: 1)); // stream chunk 8g+2
            // Its first 16 bytes are the next hash key.
            var key = new byte[16];
            Assert.True(alice.TryCopyHashKey(1, key));
            Assert.Equal(block.AsSpan(0, 16).ToArray(), key);
            Assert.Equal((Tags, 1L), alice.TakeSendIndex(ChannelKind.Session));
            Assert.Equal(2 * 128 * 8, alice.Account.ReplenishedBits);
            Assert.Empty(Directory.EnumerateFiles(Path.Combine(alice.StateDirectory, "pending")));
        }
        using (var again = _pads.Open(ChannelEnd.Alice))
        {
            Assert.Equal(Tags + 6, again.ChunksAvailable(ChannelKind.Session, ChannelEnd.Alice));
            Assert.False(again.AddPending(7, block));
            Assert.Equal([7L], again.AppliedBlocks);
            // Everything before the restart was within one reservation: skipped, never reused.
            Assert.Throws<AuthenticationPadExhaustedException>(() => Take(again));
        }
    }

    [Fact]
    public void A_weak_replenished_hash_key_is_skipped_alike_at_both_ends()
    {
        using var alice = _pads.Open(ChannelEnd.Alice);
        using var bob = _pads.Open(ChannelEnd.Bob);
        var block = TestPads.Replenishment(groups: 1);
        block.AsSpan(0, 16).Clear(); // k = 0: H would be 0 and the tag the bare pad
        TestPads.ReplenishBoth(alice, bob, 1, block);
        var k0 = new byte[16];
        var k1 = new byte[16];
        Assert.True(alice.TryCopyHashKey(0, k0));
        Assert.True(alice.TryCopyHashKey(1, k1));
        Assert.Equal(k0, k1);
        Assert.True(bob.TryCopyHashKey(1, k1));
        Assert.Equal(k0, k1);
    }

    [Fact]
    public void Both_ends_apply_the_same_replenishments_in_the_same_order_whatever_handshakes_are_lost()
    {
        // Blocks come in order; Bob adds each before Alice (he stores it before his BlockDone); a handshake carries one
        // end's position (a snapshot) to the other, and may be lost or late. Whatever happens, the two applied sequences
        // are the same where both have got to, and each end's pending holds whatever the other applied beyond it.
        var step = Gen.Int[0, 4];
        Gen.Select(step.Array[1, 60], Gen.Int[1, 3]).Sample((steps, groups) =>
        {
            using var pads = new TestPads(padBytes: 8 * 1024);
            using var alice = pads.Open(ChannelEnd.Alice);
            using var bob = pads.Open(ChannelEnd.Bob);
            long bobBlocks = 0, aliceBlocks = 0;
            var material = new Dictionary<long, byte[]>();
            PadPosition? inFlightToBob = null, inFlightToAlice = null;
            foreach (int s in steps)
            {
                switch (s)
                {
                    case 0: // Bob distils a block
                        material[++bobBlocks] = TestPads.Replenishment(groups);
                        bob.AddPending(bobBlocks, material[bobBlocks]);
                        break;
                    case 1: // Alice gets BlockDone (if Bob is ahead)
                        if (aliceBlocks < bobBlocks) alice.AddPending(++aliceBlocks, material[aliceBlocks]);
                        break;
                    case 2: // a handshake frame leaves one end
                        inFlightToBob = alice.Position(ChannelKind.Session);
                        inFlightToAlice = bob.Position(ChannelKind.Session);
                        break;
                    case 3: // it arrives at Bob
                        if (inFlightToBob is { } p) Assert.Equal(PadAgreementVerdict.Agreed, bob.Reconcile(ChannelKind.Session, p).Verdict);
                        inFlightToBob = null;
                        break;
                    case 4: // it arrives at Alice
                        if (inFlightToAlice is { } q) Assert.Equal(PadAgreementVerdict.Agreed, alice.Reconcile(ChannelKind.Session, q).Verdict);
                        inFlightToAlice = null;
                        break;
                }
            }
            // A last full handshake makes both equal.
            Assert.Equal(PadAgreementVerdict.Agreed, bob.Reconcile(ChannelKind.Session, alice.Position(ChannelKind.Session)).Verdict);
            Assert.Equal(PadAgreementVerdict.Agreed, alice.Reconcile(ChannelKind.Session, bob.Position(ChannelKind.Session)).Verdict);
            Assert.Equal(PadAgreementVerdict.Agreed, bob.Reconcile(ChannelKind.Session, alice.Position(ChannelKind.Session)).Verdict);
            Assert.Equal(bob.AppliedBlocks, alice.AppliedBlocks);
            long chunks = alice.ChunksAvailable(ChannelKind.Session, ChannelEnd.Bob);
            Assert.Equal(chunks, bob.ChunksAvailable(ChannelKind.Session, ChannelEnd.Bob));
            long epoch = alice.AppliedReplenishments;
            for (long i = Math.Max(0, chunks - 6); i < chunks; i++)
                Assert.Equal(Read(bob, ChannelEnd.Bob, i, epoch: epoch), Read(alice, ChannelEnd.Bob, i, epoch: epoch));
        }, iter: 60);
    }

    [Fact]
    public void A_deleted_or_restored_state_is_found_older_than_the_peer_s_and_then_refuses_to_open()
    {
        using var pads = new TestPads(padBytes: 64 * 1024);
        string backup = pads.StateOf(ChannelEnd.Alice, "-backup");
        using (var alice = pads.Open(ChannelEnd.Alice))
        using (var bob = pads.Open(ChannelEnd.Bob))
        {
            long used = Take(alice);
            Assert.True(bob.TryAccept(ChannelKind.Session, used));
            alice.MarkEstablished();
        }
        CopyDirectory(pads.StateOf(ChannelEnd.Alice), backup);
        using (var alice = pads.Open(ChannelEnd.Alice))
        using (var bob = pads.Open(ChannelEnd.Bob))
        {
            // Alice goes on past the backup's reservation; Bob accepts her frames.
            for (int i = 0; i < AuthenticationPadStore.ReserveBatch + 5; i++) Assert.True(bob.TryAccept(ChannelKind.Session, Take(alice)));
        }
        foreach (var stale in new[] { "deleted", "restored" })
        {
            string state = pads.StateOf(ChannelEnd.Alice, stale);
            if (stale == "restored") CopyDirectory(backup, state);
            using var bob = pads.Open(ChannelEnd.Bob);
            using (var alice = AuthenticationPadStore.Open(pads.SecretPath, state, ChannelEnd.Alice))
            {
                var theirs = bob.Compare(ChannelKind.Session, alice.Position(ChannelKind.Session));
                Assert.Equal(PadAgreementVerdict.PeerOlder, theirs.Verdict);
                var mine = alice.Compare(ChannelKind.Session, bob.Position(ChannelKind.Session));
                Assert.Equal(PadAgreementVerdict.ThisEndOlder, mine.Verdict);
                alice.Condemn(mine.Explanation!);
                Assert.True(alice.Stale.IsCompleted);
                Assert.Throws<AuthenticationPadStaleException>(() => alice.TakeSendIndex(ChannelKind.KmeLink));
            }
            var e = Assert.Throws<AuthenticationPadStaleException>(() => AuthenticationPadStore.Open(pads.SecretPath, state, ChannelEnd.Alice));
            Assert.Contains("Re-provision a fresh pre-shared secret at both ends", e.Message);
        }
    }

    [Fact]
    public void A_state_directory_belongs_to_one_end_and_one_secret()
    {
        using (_pads.Open(ChannelEnd.Alice)) { }
        var e = Assert.Throws<InvalidDataException>(() => AuthenticationPadStore.Open(_pads.SecretPath, _pads.StateOf(ChannelEnd.Alice), ChannelEnd.Bob));
        Assert.Contains("Alice", e.Message);
        using var other = new TestPads(padBytes: TestPads.PadBytesForSessionTags(Tags));
        var wrongSecret = Assert.Throws<InvalidDataException>(() => AuthenticationPadStore.Open(other.SecretPath, _pads.StateOf(ChannelEnd.Alice), ChannelEnd.Alice));
        Assert.Contains("another pre-shared secret", wrongSecret.Message);
    }

    [Fact]
    public void A_state_of_the_earlier_format_is_refused_naming_the_way_out()
    {
        string state = _pads.StateOf(ChannelEnd.Alice);
        Directory.CreateDirectory(state);
        var slot = new byte[128];
        BitConverter.GetBytes(0x50414B51u).CopyTo(slot, 0);
        slot[4] = 1;
        File.WriteAllBytes(Path.Combine(state, "pad-state"), slot);
        var e = Assert.Throws<InvalidDataException>(() => _pads.Open(ChannelEnd.Alice));
        Assert.Contains("earlier release", e.Message);
        Assert.Contains("Re-provision", e.Message);
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
