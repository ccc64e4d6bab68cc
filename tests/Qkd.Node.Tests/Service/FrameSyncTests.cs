using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Qkd.ClassicalChannel;
using Qkd.Node.Devices;
using Qkd.Node.Link;
using Qkd.Node.Service;
using Qkd.Node.Tests.Support;

namespace Qkd.Node.Tests.Service;

/// <summary>
/// Bob's session on emulated devices joined to Alice's only by the fibre and a classical channel, as real devices
/// would be: he is not told the fibre delay, and his tagger loses the emission's first sync tags; frame
/// synchronisation against Alice's pilot still gives both ends the same keys. With no light it refuses, and says why.
/// </summary>
public class FrameSyncTests
{
    private static NodeConfig Config(string role, string dir, double distanceKm, double seconds) => new()
    {
        Role = role,
        LinkId = "frame-sync",
        ClassicalChannel = new ClassicalChannelConfig("127.0.0.1:1", "unused"),
        KeyPool = new KeyPoolConfig("unused.db", OperatorKeyFile: "unused"),
        Emulator = new EmulatorConfig("127.0.0.1:1", DistanceKm: distanceKm, Seed: 11),
        DurationSeconds = seconds,
        BlockSizeBits = 1 << 21,
        InsecureFixedSeed = 3, // a reproducible test; the choices' source is not the point here
        BaseDirectory = dir,
    };

    [Fact(Timeout = 300_000)]
    public async Task Lost_first_syncs_and_an_untold_fibre_delay_still_give_matching_keys()
    {
        string dir = Directory.CreateTempSubdirectory("qkd-frame-sync").FullName;
        // 37.3 km: 183 µs of fibre, some 179 sync periods and a fraction of a pulse, none of it told to Bob's clock recovery.
        var aliceConfig = Config("alice", dir, 37.3, 0.25);
        var bobConfig = Config("bob", dir, 37.3, 0.25);
        var profile = bobConfig.LinkProfile();
        var settings = bobConfig.LinkSettings();
        var alicePool = new RecordingPool();
        var bobPool = new RecordingPool();

        using var receiver = EmulatedReceiver.Create(profile, EmulatedSetup.TaggerOptionsFor(settings, long.MaxValue), 11, new IPEndPoint(IPAddress.Loopback, 0));
        using var transmitter = EmulatedTransmitter.Create(receiver.Fibre.EndPoint);
        receiver.ConnectAndConfigure(profile, 0);
        const int lostSyncs = 3;
        receiver.Devices.Tagger.MissInputPulses(0, lostSyncs);
        var alice = new AliceEnd(aliceConfig, transmitter.Modulator, alicePool, NullLogger.Instance);
        var bob = new BobEnd(bobConfig, receiver.Tagger, bobPool, NullLogger.Instance);

        var (aliceChannel, bobChannel) = InMemoryClassicalChannel.CreatePair();
        var ct = TestContext.Current.CancellationToken;
        var aliceRun = Task.Run(() => alice.RunSessionAsync(aliceChannel, 1, ct), ct);
        var bobSummary = await bob.RunSessionAsync(bobChannel, 1, ct);
        var aliceSummary = await aliceRun;

        Assert.Equal(lostSyncs, receiver.Devices.Tagger.InputPulsesMissed);
        var sync = bob.LastFrameSync!;
        Assert.Null(sync.Failure);
        // Bob counted from the fourth sync (+3 periods) and placed the light one untold fibre delay late.
        long delayPulses = (long)Math.Round(profile.FibreDelayPs / settings.PulsePeriodPs);
        Assert.InRange(sync.Offset!.Value, lostSyncs * settings.PulsesPerSync - delayPulses - 1, lostSyncs * settings.PulsesPerSync - delayPulses + 1);
        Assert.InRange(sync.PilotErrorRate, 0, 0.05);
        Assert.True(bobSummary.SecretBits > 0, bobSummary.Closing);
        Assert.Equal(bobSummary.SecretBits, aliceSummary.SecretBits);
        Assert.Equal(alicePool.Blocks.Keys, bobPool.Blocks.Keys);
        foreach (var (id, key) in alicePool.Blocks) Assert.Equal(key, bobPool.Blocks[id]);
    }

    [Fact(Timeout = 300_000)]
    public async Task Without_light_the_session_is_refused_with_the_reason_at_both_ends()
    {
        string dir = Directory.CreateTempSubdirectory("qkd-frame-sync").FullName;
        var aliceConfig = Config("alice", dir, 25, 0.01);
        var bobConfig = Config("bob", dir, 25, 0.01);
        var profile = bobConfig.LinkProfile();
        var pool = new RecordingPool();

        using var receiver = EmulatedReceiver.Create(profile, EmulatedSetup.TaggerOptionsFor(bobConfig.LinkSettings(), long.MaxValue), 11, new IPEndPoint(IPAddress.Loopback, 0));
        using var transmitter = EmulatedTransmitter.Create(receiver.Fibre.EndPoint);
        receiver.ConnectAndConfigure(profile, 0);
        // The detectors are blind (bias off): syncs arrive, no photon is ever detected.
        for (int head = 0; head < receiver.Detector.Heads; head++) receiver.Detector.SetBiasEnabled(head, false);
        var alice = new AliceEnd(aliceConfig, transmitter.Modulator, pool, NullLogger.Instance);
        var bob = new BobEnd(bobConfig, receiver.Tagger, pool, NullLogger.Instance);

        var (aliceChannel, bobChannel) = InMemoryClassicalChannel.CreatePair();
        var ct = TestContext.Current.CancellationToken;
        var aliceRun = Task.Run(() => alice.RunSessionAsync(aliceChannel, 1, ct), ct);
        var bobSummary = await bob.RunSessionAsync(bobChannel, 1, ct);
        var aliceSummary = await aliceRun;

        Assert.StartsWith("aborted: frame synchronisation failed: none of the 0 detections", bobSummary.Closing);
        Assert.Equal(bobSummary.Closing, aliceSummary.Closing);
        Assert.Equal(0, bobSummary.SecretBits);
        Assert.Empty(pool.Blocks);
        Assert.Null(bob.LastFrameSync!.Offset);
    }
}
