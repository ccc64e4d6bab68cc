using System.Buffers.Binary;
using CsCheck;
using Microsoft.Extensions.Logging.Abstractions;
using Qkd.ClassicalChannel;
using Qkd.Kme.PeerLink;

namespace Qkd.Kme.Tests.PeerLink;

/// <summary>
/// The session hello carries the protocol version: two nodes of different versions refuse each other with a message
/// naming both, before any key is made, and a node from before the version field is named as version 1.
/// </summary>
public sealed class SessionHelloTests
{
    [Fact]
    public void A_hello_round_trips()
    {
        Gen.Select(Gen.UShort, Gen.String[Gen.Char.AlphaNumeric, 1, 100], Gen.Long[0, long.MaxValue], Gen.Long.Array[0, 50]).Sample((version, link, last, blocks) =>
        {
            var hello = new SessionHello(version, link, last, blocks);
            var read = SessionHello.Read(hello.ToMessage(), version);
            Assert.Equal(version, read.ProtocolVersion);
            Assert.Equal(link, read.LinkId);
            Assert.Equal(last, read.LastSession);
            Assert.Equal(blocks, read.Blocks);
        });
    }

    [Fact]
    public void A_peer_of_another_version_is_refused_naming_both()
    {
        byte[] message = new SessionHello(3, "link", 5, [1, 2]).ToMessage();
        var e = Assert.Throws<InvalidDataException>(() => SessionHello.Read(message, 2));
        Assert.Contains("the peer speaks distillation protocol version 3, this node version 2", e.Message);
    }

    [Fact]
    public void A_peer_from_before_the_version_field_is_version_1()
    {
        // The hello those nodes sent: "HELO", u16 link length, link, i64 last session, i32 block count, blocks.
        byte[] link = "link"u8.ToArray();
        var message = new byte[4 + 2 + link.Length + 8 + 4];
        BinaryPrimitives.WriteUInt32LittleEndian(message, 0x4F4C_4548);
        BinaryPrimitives.WriteUInt16LittleEndian(message.AsSpan(4), (ushort)link.Length);
        link.CopyTo(message, 6);
        var e = Assert.Throws<InvalidDataException>(() => SessionHello.Read(message, 2));
        Assert.Contains("the peer speaks distillation protocol version 1, this node version 2", e.Message);
    }

    [Fact]
    public void Malformed_hellos_are_refused_as_such()
    {
        byte[] good = new SessionHello(2, "link", 5, [1, 2]).ToMessage();
        for (int length = 0; length < good.Length; length++)
        {
            var e = Assert.Throws<InvalidDataException>(() => SessionHello.Read(good.AsSpan(0, length), 2));
            Assert.StartsWith("session hello:", e.Message);
        }
        Assert.Throws<InvalidDataException>(() => SessionHello.Read([.. good, 0], 2));
        Assert.Contains("not a hello", Assert.Throws<InvalidDataException>(() => SessionHello.Read("QKD!xxxxxxxxxxxxxxxxxxxx"u8, 2)).Message);
    }

    [Fact]
    public async Task Two_nodes_of_different_versions_both_refuse_the_session()
    {
        var (aliceChannel, bobChannel) = InMemoryClassicalChannel.CreatePair();
        string dir = Directory.CreateTempSubdirectory("qkd-hello-version").FullName;
        try
        {
            var ct = TestContext.Current.CancellationToken;
            var alice = SessionHandshake.RunAsync(aliceChannel, "link", 2, new SessionCounter(Path.Combine(dir, "a")), new EmptyLedger(), true, NullLogger.Instance, ct);
            var bob = SessionHandshake.RunAsync(bobChannel, "link", 3, new SessionCounter(Path.Combine(dir, "b")), new EmptyLedger(), false, NullLogger.Instance, ct);
            var aliceError = await Assert.ThrowsAsync<InvalidDataException>(() => alice);
            var bobError = await Assert.ThrowsAsync<InvalidDataException>(() => bob);
            Assert.Contains("version 3, this node version 2", aliceError.Message);
            Assert.Contains("version 2, this node version 3", bobError.Message);
            Assert.False(File.Exists(Path.Combine(dir, "a", "session")), "a refused session must not use up a session number");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private sealed class EmptyLedger : IBlockLedger
    {
        public IReadOnlyList<long> StoredBlockIds() => [];
        public long DiscardBlocks(IReadOnlyCollection<long> blockIds) => 0;
    }
}
