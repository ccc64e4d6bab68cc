using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using NSubstitute;
using Qkd.ClassicalChannel;
using Qkd.Core.Bits;
using Qkd.Core.Channel;
using Qkd.Core.Keys;
using Qkd.Core.Symbols;
using Qkd.Hardware.Devices;
using Qkd.Hardware.Modulator;
using Qkd.Node.Devices;
using Qkd.Node.Link;
using Qkd.Node.Service;
using Qkd.Protocol;

namespace Qkd.Node.Tests.Service;

/// <summary>
/// The session scope of each end, at unit level (emulated receiver behind the fibre, in-memory channel): Bob's blocking
/// tag read ends when the peer closes the session's channel, and Alice's session ends at once when her emission fails.
/// </summary>
public sealed class SessionScopeTests
{
    private sealed class CountingSink : IKeySink
    {
        public int Blocks;

        public void Accept(long blockId, PackedBits key) => Interlocked.Increment(ref Blocks);
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

    /// <summary>A modulator whose stream frames the device never takes: its emission faults as a stalled serial write does.</summary>
    private static (ILaserModulator Modulator, TaskCompletionSource Streaming) FailingModulator()
    {
        var streaming = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var modulator = Substitute.For<ILaserModulator>();
        modulator.Name.Returns("laser modulator MOD-TEST (/dev/pts/99)");
        modulator.State.Returns(ConnectionState.Connected);
        modulator.StreamingCompletion.Returns(streaming.Task);
        modulator.When(m => m.StartEmission(Arg.Any<ISymbolSource>(), Arg.Any<long>(), Arg.Any<long>()))
            .Do(_ => streaming.TrySetException(new DeviceException("serial port /dev/pts/99", "write of 229558 bytes", "no reply within 2000 ms")));
        return (modulator, streaming);
    }

    [Fact(Timeout = 300_000)]
    public async Task Bob_stops_reading_tags_when_the_peer_closes_the_channel_and_Alice_ends_her_session_when_the_emission_fails()
    {
        var ct = TestContext.Current.CancellationToken;
        string dir = Directory.CreateTempSubdirectory("qkd-session-scope").FullName;
        var bobConfig = Config("bob", dir);
        var profile = bobConfig.LinkProfile();
        using var receiver = EmulatedReceiver.Create(profile, EmulatedSetup.TaggerOptionsFor(LinkSettings.Default, long.MaxValue), 5, new IPEndPoint(IPAddress.Loopback, 0));
        receiver.ConnectAndConfigure(profile, 0);
        var (modulator, _) = FailingModulator();
        var alicePool = new CountingSink();
        var bobPool = new CountingSink();
        var alice = new AliceEnd(Config("alice", dir), modulator, alicePool, NullLogger.Instance);
        var bob = new BobEnd(bobConfig, receiver.Tagger, bobPool, NullLogger.Instance);
        var (aliceChannel, bobChannel) = InMemoryClassicalChannel.CreatePair();

        // Bob starts his tagger and reads; no light comes (the modulator never emitted), so only the channel can end his read.
        var bobRun = Task.Run(() => bob.RunSessionAsync(bobChannel, 1, ct), ct);
        var aliceFailure = await Assert.ThrowsAsync<DeviceException>(() => alice.RunSessionAsync(aliceChannel, 1, ct));
        Assert.Contains("MOD-TEST", aliceFailure.Message);
        Assert.Contains("no reply within 2000 ms", aliceFailure.Message);
        modulator.Received().StopEmission(); // stopped even though the stream failed: the device may still emit

        aliceChannel.Complete(); // what the node does with a session's channel however the session ended
        var bobFailure = await Assert.ThrowsAsync<ClassicalChannelClosedException>(() => bobRun);
        Assert.Contains("while Bob read tags", bobFailure.Message);
        Assert.Equal(0, alicePool.Blocks);
        Assert.Equal(0, bobPool.Blocks);
        // The tagger's stream was stopped, so a next session can start it again.
        receiver.Tagger.StartStream();
        receiver.Tagger.StopStream();
    }

    [Fact(Timeout = 300_000)]
    public async Task Bob_stops_reading_tags_when_a_tcp_channel_peer_completes()
    {
        // The same through the TCP channel's Closed token: the peer's End frame cancels it.
        var ct = TestContext.Current.CancellationToken;
        string dir = Directory.CreateTempSubdirectory("qkd-session-scope-tcp").FullName;
        string secretFile = Path.Combine(dir, "pre-shared.secret");
        var owner = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite };
        using (var f = new FileStream(secretFile, owner))
            f.Write(System.Security.Cryptography.RandomNumberGenerator.GetBytes(AuthenticationPadStore.HashKeyBytes + (1 << 20)));
        using var alicePad = AuthenticationPadStore.Open(secretFile, Path.Combine(dir, "alice"), ChannelEnd.Alice);
        using var bobPad = AuthenticationPadStore.Open(secretFile, Path.Combine(dir, "bob"), ChannelEnd.Bob);
        await using var bobChannel = new TcpClassicalChannel(new TcpClassicalChannelOptions { LocalEnd = ChannelEnd.Bob, ListenEndpoint = new IPEndPoint(IPAddress.Loopback, 0) }, bobPad);
        await using var aliceChannel = new TcpClassicalChannel(new TcpClassicalChannelOptions { LocalEnd = ChannelEnd.Alice, ConnectEndpoint = bobChannel.LocalEndpoint! }, alicePad);
        await aliceChannel.SendAsync(new byte[] { 1 }, ct);
        Assert.Equal(1, (await bobChannel.ReceiveAsync(ct)).Length);
        Assert.False(((IClassicalChannel)bobChannel).Closed.IsCancellationRequested);

        aliceChannel.Complete();
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = ((IClassicalChannel)bobChannel).Closed.Register(() => closed.TrySetResult());
        await closed.Task.WaitAsync(TimeSpan.FromSeconds(120), ct);
        Assert.Equal(ChannelCloseReason.PeerCompleted, bobChannel.CloseReason);
    }
}
