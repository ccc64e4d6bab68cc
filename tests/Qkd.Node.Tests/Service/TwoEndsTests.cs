using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Qkd.Core.Bits;
using Qkd.Distillation;
using Qkd.Core.Channel;
using Qkd.Node.Devices;
using Qkd.Node.Link;
using Qkd.Node.Service;
using Qkd.Core.Keys;
using Qkd.Kme.PeerLink;
using Qkd.ClassicalChannel;
using Qkd.Distillation.Messages;

namespace Qkd.Node.Tests.Service;

/// <summary>Alice's and Bob's session code with their own device sets joined only by the fibre and a classical channel.</summary>
public class TwoEndsTests
{
    /// <summary>Blocks as the pool would see them (test double for IKeySink + IBlockLedger, keeping key bytes to compare).</summary>
    private sealed class RecordingPool : IKeySink, IBlockLedger
    {
        public readonly SortedDictionary<long, byte[]> Blocks = new();

        public void Accept(long blockId, PackedBits key)
        {
            lock (Blocks) Blocks.Add(blockId, key.ToBytes());
        }

        public IReadOnlyList<long> StoredBlockIds()
        {
            lock (Blocks) return Blocks.Keys.ToArray();
        }

        public long DiscardBlocks(IReadOnlyCollection<long> blockIds)
        {
            lock (Blocks) return blockIds.Count(Blocks.Remove);
        }
    }

    private static NodeConfig Config(string role, string dir) => new()
    {
        Role = role,
        LinkId = "test-link",
        ClassicalChannel = new ClassicalChannelConfig("127.0.0.1:1", "unused"),
        KeyPool = new KeyPoolConfig("unused.db", OperatorKeyFile: "unused"),
        Emulator = new EmulatorConfig("127.0.0.1:1", DistanceKm: 25, Seed: 5),
        DurationSeconds = 0.25,
        BlockSizeBits = 1 << 21,
        BaseDirectory = dir,
    };

    [Fact(Timeout = 300_000)]
    public async Task Two_sessions_give_identical_keys_under_session_scoped_blocks()
    {
        string dir = Directory.CreateTempSubdirectory("qkd-two-ends").FullName;
        var aliceConfig = Config("alice", dir);
        var bobConfig = Config("bob", dir);
        var profile = bobConfig.LinkProfile();
        var alicePool = new RecordingPool();
        var bobPool = new RecordingPool();
        var aliceCounter = new SessionCounter(Path.Combine(dir, "alice"));
        var bobCounter = new SessionCounter(Path.Combine(dir, "bob"));

        using var receiver = EmulatedReceiver.Create(profile, EmulatedSetup.TaggerOptionsFor(LinkSettings.Default, long.MaxValue), 5, new IPEndPoint(IPAddress.Loopback, 0));
        using var transmitter = EmulatedTransmitter.Create(receiver.Fibre.EndPoint);
        receiver.ConnectAndConfigure(profile, 0);
        var alice = new AliceEnd(aliceConfig, transmitter.Modulator, alicePool, NullLogger.Instance);
        var bob = new BobEnd(bobConfig, receiver.Tagger, bobPool, NullLogger.Instance);

        for (int round = 1; round <= 2; round++)
        {
            var (aliceChannel, bobChannel) = InMemoryClassicalChannel.CreatePair();
            var ct = TestContext.Current.CancellationToken;
            var aliceHello = SessionHandshake.RunAsync(aliceChannel, "test-link", DistillationProtocol.Version, aliceCounter, alicePool, initiator: true, NullLogger.Instance, ct);
            var bobHello = SessionHandshake.RunAsync(bobChannel, "test-link", DistillationProtocol.Version, bobCounter, bobPool, initiator: false, NullLogger.Instance, ct);
            var (a, b) = (await aliceHello, await bobHello);
            Assert.Equal(round, a.Session);
            Assert.Equal(round, b.Session);
            var aliceRun = Task.Run(() => alice.RunSessionAsync(aliceChannel, a.Session, ct), ct);
            var bobSummary = await bob.RunSessionAsync(bobChannel, b.Session, ct);
            var aliceSummary = await aliceRun;
            Assert.True(bobSummary.SecretBits > 0, bobSummary.Closing);
            Assert.Equal(bobSummary.SecretBits, aliceSummary.SecretBits);
        }

        Assert.Equal(alicePool.Blocks.Keys, bobPool.Blocks.Keys);
        Assert.Contains(alicePool.Blocks.Keys, id => SessionKeySink.SessionOf(id) == 1);
        Assert.Contains(alicePool.Blocks.Keys, id => SessionKeySink.SessionOf(id) == 2);
        foreach (var (id, key) in alicePool.Blocks) Assert.Equal(key, bobPool.Blocks[id]);
        // Different sessions emit different symbols, so their keys differ.
        Assert.NotEqual(alicePool.Blocks.First(p => SessionKeySink.SessionOf(p.Key) == 1).Value, alicePool.Blocks.First(p => SessionKeySink.SessionOf(p.Key) == 2).Value);
    }

    [Fact]
    public async Task A_block_only_one_end_holds_is_dropped_at_the_handshake()
    {
        string dir = Directory.CreateTempSubdirectory("qkd-hello").FullName;
        var alicePool = new RecordingPool();
        var bobPool = new RecordingPool();
        alicePool.Blocks[SessionKeySink.GlobalBlockId(1, 0)] = [1];
        alicePool.Blocks[SessionKeySink.GlobalBlockId(1, 1)] = [2]; // Bob was killed before storing this one
        bobPool.Blocks[SessionKeySink.GlobalBlockId(1, 0)] = [1];
        var (aliceChannel, bobChannel) = InMemoryClassicalChannel.CreatePair();
        var ct = TestContext.Current.CancellationToken;
        var aliceHello = SessionHandshake.RunAsync(aliceChannel, "l", DistillationProtocol.Version, new SessionCounter(Path.Combine(dir, "a")), alicePool, true, NullLogger.Instance, ct);
        var bobHello = SessionHandshake.RunAsync(bobChannel, "l", DistillationProtocol.Version, new SessionCounter(Path.Combine(dir, "b")), bobPool, false, NullLogger.Instance, ct);
        var (a, b) = (await aliceHello, await bobHello);
        Assert.Equal(1, a.BlocksDiscarded);
        Assert.Equal(0, b.BlocksDiscarded);
        Assert.Equal(alicePool.Blocks.Keys, bobPool.Blocks.Keys);
        Assert.Equal(1, a.Session);
    }

    [Fact]
    public async Task Nodes_of_different_links_refuse_each_other()
    {
        string dir = Directory.CreateTempSubdirectory("qkd-hello").FullName;
        var (aliceChannel, bobChannel) = InMemoryClassicalChannel.CreatePair();
        var ct = TestContext.Current.CancellationToken;
        var aliceHello = SessionHandshake.RunAsync(aliceChannel, "link-a", DistillationProtocol.Version, new SessionCounter(Path.Combine(dir, "a")), new RecordingPool(), true, NullLogger.Instance, ct);
        var bobHello = SessionHandshake.RunAsync(bobChannel, "link-b", DistillationProtocol.Version, new SessionCounter(Path.Combine(dir, "b")), new RecordingPool(), false, NullLogger.Instance, ct);
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => bobHello);
        Assert.Contains("link-a", e.Message);
        await Assert.ThrowsAsync<InvalidDataException>(() => aliceHello);
    }
}
