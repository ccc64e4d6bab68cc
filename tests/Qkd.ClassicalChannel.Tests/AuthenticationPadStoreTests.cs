using Qkd.ClassicalChannel;

namespace Qkd.ClassicalChannel.Tests;

public sealed class AuthenticationPadStoreTests : IDisposable
{
    private readonly TestPads _pads = new(padBytes: 64 * 16);

    public void Dispose() => _pads.Dispose();

    private static long Take(AuthenticationPadStore store) => store.TakeSendIndex();

    private static byte[] Read(AuthenticationPadStore store, ChannelEnd sender, long index)
    {
        var pad = new byte[16];
        Assert.True(store.TryReadPad(sender, index, pad));
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
    public void Directions_use_disjoint_chunks_and_both_ends_see_the_same_pads()
    {
        using var alice = _pads.Open(ChannelEnd.Alice);
        using var bob = _pads.Open(ChannelEnd.Bob);
        Assert.Equal(32, alice.ChunksAvailable(ChannelEnd.Alice));
        Assert.Equal(32, alice.ChunksAvailable(ChannelEnd.Bob));
        var secret = File.ReadAllBytes(_pads.SecretPath);
        for (int i = 0; i < 32; i++)
        {
            Assert.Equal(secret.AsSpan(16 + 32 * i, 16).ToArray(), Read(bob, ChannelEnd.Alice, i));
            Assert.Equal(secret.AsSpan(16 + 32 * i + 16, 16).ToArray(), Read(alice, ChannelEnd.Bob, i));
            Assert.Equal(Read(alice, ChannelEnd.Alice, i), Read(bob, ChannelEnd.Alice, i));
        }
    }

    [Fact]
    public void Exhaustion_is_a_clear_error_and_nothing_is_reused()
    {
        using var alice = _pads.Open(ChannelEnd.Alice);
        var used = new HashSet<long>();
        for (int i = 0; i < 32; i++) Assert.True(used.Add(Take(alice)));
        var e = Assert.Throws<AuthenticationPadExhaustedException>(() => Take(alice));
        Assert.Contains("exhausted", e.Message);
        Assert.Equal(0, alice.Account.RemainingBits);
        Assert.Equal(32 * 128, alice.Account.ConsumedBits);
    }

    [Fact]
    public void A_restart_resumes_past_the_durable_reservation()
    {
        long last;
        using (var alice = _pads.Open(ChannelEnd.Alice))
        {
            Take(alice);
            last = Take(alice);
        }
        // Reopened (a new process): the cursor moved past everything that might have been used, here the whole
        // first reservation (all 32 chunks of this small pad), so nothing is left rather than anything reused.
        using (var again = _pads.Open(ChannelEnd.Alice))
        {
            Assert.Equal(32 * 128, again.Account.ConsumedBits);
            Assert.Throws<AuthenticationPadExhaustedException>(() => Take(again));
        }
    }

    [Fact]
    public void A_restart_with_a_large_pad_skips_exactly_the_reserved_batch()
    {
        using var pads = new TestPads(padBytes: 4 * AuthenticationPadStore.ReserveBatch * 32);
        using (var alice = pads.Open(ChannelEnd.Alice))
            for (int i = 0; i < 3; i++) Take(alice);
        using (var again = pads.Open(ChannelEnd.Alice))
        {
            Assert.Equal(AuthenticationPadStore.ReserveBatch, Take(again));
            Assert.Equal(AuthenticationPadStore.ReserveBatch * 128L + 128, again.Account.ConsumedBits);
        }
    }

    [Fact]
    public void Replenishment_appends_once_per_block_and_survives_a_restart()
    {
        var key = Enumerable.Range(0, 64).Select(i => (byte)i).ToArray();
        using (var alice = _pads.Open(ChannelEnd.Alice))
        {
            for (int i = 0; i < 32; i++) Take(alice);
            Assert.True(alice.Replenish(1, key));
            Assert.False(alice.Replenish(1, key)); // same block again (a node restarted mid-block): ignored
            Assert.Equal(34, alice.ChunksAvailable(ChannelEnd.Alice));
            Assert.Equal(32, Take(alice));
            Assert.Equal(key.AsSpan(32, 16).ToArray(), Read(alice, ChannelEnd.Alice, 33));
            Assert.Equal(64 * 8, alice.Account.ReplenishedBits);
        }
        using (var again = _pads.Open(ChannelEnd.Alice))
        {
            Assert.Equal(34, again.ChunksAvailable(ChannelEnd.Alice));
            Assert.False(again.Replenish(1, key));
            // Chunk 33 was reserved with 32 before the restart: skipped, never reused.
            Assert.Throws<AuthenticationPadExhaustedException>(() => Take(again));
            Assert.True(again.Replenish(2, key));
            Assert.Equal(34, Take(again));
        }
    }

    [Fact]
    public void A_state_directory_belongs_to_one_end()
    {
        using (_pads.Open(ChannelEnd.Alice)) { }
        var e = Assert.Throws<InvalidDataException>(() => AuthenticationPadStore.Open(_pads.SecretPath, _pads.StateOf(ChannelEnd.Alice), ChannelEnd.Bob));
        Assert.Contains("Alice", e.Message);
    }
}
