using Qkd.Hardware.RandomNumberGenerator;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Qkd.ClassicalChannel;
using Qkd.Core;
using Qkd.Node.Devices;
using Qkd.Node.Link;
using Qkd.Node.Service;
using Qkd.Node.Tests.Support;

namespace Qkd.Node.Tests.Service;

/// <summary>
/// An active two-detector receiver through the tag path, on emulated devices joined to Alice's only by the fibre and
/// a classical channel: Bob streams his own secret basis choices to his detector's basis modulator, the physics measures
/// in them, the tagger records the basis marker, and Bob's decoder reads each click's basis from his choices at the
/// marker's offset. Keys match at both ends; without a driver for the basis modulator Bob refuses to start.
/// </summary>
public class ActiveReceiverTests
{
    private static string ActiveProfile(string dir, Emulation.EavesdropperSpec? eve = null)
    {
        string path = Path.Combine(dir, "active-link.json");
        File.WriteAllText(path, (Emulation.LinkProfile.Default with
        {
            ReceiverLayout = ReceiverLayout.ActiveTwoDetector, BobProbabilityZ = 0.7, Eavesdropper = eve ?? Emulation.EavesdropperSpec.None,
        }).ToJson());
        return path;
    }

    private static NodeConfig Config(string role, string dir, string profile, ulong? insecureSeed) => new()
    {
        Role = role,
        LinkId = "active-receiver",
        ClassicalChannel = new ClassicalChannelConfig("127.0.0.1:1", "unused"),
        KeyPool = new KeyPoolConfig("unused.db", OperatorKeyFile: "unused"),
        Emulator = new EmulatorConfig("127.0.0.1:1", Profile: profile, DistanceKm: 20, Seed: 13),
        DurationSeconds = 0.25,
        BlockSizeBits = 1 << 21,
        InsecureFixedSeed = insecureSeed,
        BaseDirectory = dir,
    };

    [Fact(Timeout = 300_000)]
    public async Task Bobs_own_secret_bases_through_his_detector_and_the_tag_path_give_matching_keys()
    {
        string dir = Directory.CreateTempSubdirectory("qkd-active").FullName;
        string profilePath = ActiveProfile(dir);
        // No fixed seed: Alice's symbols and Bob's bases come from the OS CSPRNG, as in a deployment.
        var aliceConfig = Config("alice", dir, profilePath, null);
        var bobConfig = Config("bob", dir, profilePath, null);
        var profile = bobConfig.LinkProfile();
        var settings = bobConfig.LinkSettings();
        Assert.Equal(ReceiverLayout.ActiveTwoDetector, bobConfig.ReceiverLayout);
        var alicePool = new RecordingPool();
        var bobPool = new RecordingPool();

        using var receiver = EmulatedReceiver.Create(profile, EmulatedSetup.TaggerOptionsFor(settings, long.MaxValue, profile.ReceiverLayout), 13,
            new IPEndPoint(IPAddress.Loopback, 0));
        using var transmitter = EmulatedTransmitter.Create(receiver.Fibre.EndPoint);
        receiver.ConnectAndConfigure(profile, 0);
        Assert.Equal(2, receiver.Detector.Heads);
        var aliceLog = new Entropy.QrngEntropySourceTests.ListLogger();
        var bobLog = new Entropy.QrngEntropySourceTests.ListLogger();
        var alice = new AliceEnd(aliceConfig, transmitter.Modulator, alicePool, aliceLog);
        var bob = new BobEnd(bobConfig, receiver.Tagger, bobPool, bobLog, basisModulator: (Hardware.Detector.IBasisModulator)receiver.Detector);

        var (aliceChannel, bobChannel) = InMemoryClassicalChannel.CreatePair();
        var ct = TestContext.Current.CancellationToken;
        var aliceRun = Task.Run(() => alice.RunSessionAsync(aliceChannel, 1, ct), ct);
        var bobSummary = await bob.RunSessionAsync(bobChannel, 1, ct);
        var aliceSummary = await aliceRun;

        // The physics measured in Bob's bases: the device's pattern holds what his host streamed, and the light found it.
        var session = receiver.Devices.CurrentSession!;
        Assert.NotNull(session.Tagger!.Link.BobSettings);
        Assert.Equal(1, session.Tagger.MarkerTags);
        Assert.True(receiver.Devices.Detector.LastBasisPattern!.SymbolsReceived >= (long)(0.25 * settings.PulseRateHz));
        Assert.Contains(bobLog.Entries, e => e.Message.Contains("basis marker at pulse") && !e.Message.Contains("not seen"));
        var sync = bob.LastFrameSync!;
        Assert.Null(sync.Failure);
        Assert.InRange(sync.PilotErrorRate, 0, 0.06);
        Assert.True(bobSummary.SecretBits > 0, bobSummary.Closing);
        Assert.Equal(bobSummary.SecretBits, aliceSummary.SecretBits);
        Assert.Equal(alicePool.Blocks.Keys, bobPool.Blocks.Keys);
        foreach (var (id, key) in alicePool.Blocks) Assert.Equal(key, bobPool.Blocks[id]);
    }

    [Fact(Timeout = 300_000)]
    public async Task An_intercept_resend_attack_aborts_the_session_at_both_ends_and_nothing_waits_for_unobserved_light()
    {
        string dir = Directory.CreateTempSubdirectory("qkd-active").FullName;
        string profilePath = ActiveProfile(dir, Emulation.EavesdropperSpec.InterceptResend());
        var aliceConfig = Config("alice", dir, profilePath, null) with { DurationSeconds = 0.5 };
        var bobConfig = Config("bob", dir, profilePath, null) with { DurationSeconds = 0.5 };
        var profile = bobConfig.LinkProfile();
        var pool = new RecordingPool();
        using var receiver = EmulatedReceiver.Create(profile, EmulatedSetup.TaggerOptionsFor(bobConfig.LinkSettings(), long.MaxValue, profile.ReceiverLayout), 13,
            new IPEndPoint(IPAddress.Loopback, 0));
        using var transmitter = EmulatedTransmitter.Create(receiver.Fibre.EndPoint);
        receiver.ConnectAndConfigure(profile, 0);
        var alice = new AliceEnd(aliceConfig, transmitter.Modulator, pool, NullLogger.Instance);
        var bob = new BobEnd(bobConfig, receiver.Tagger, pool, NullLogger.Instance, basisModulator: (Hardware.Detector.IBasisModulator)receiver.Detector);
        var (aliceChannel, bobChannel) = InMemoryClassicalChannel.CreatePair();
        var ct = TestContext.Current.CancellationToken;
        var aliceRun = Task.Run(() => alice.RunSessionAsync(aliceChannel, 1, ct), ct);
        var bobSummary = await bob.RunSessionAsync(bobChannel, 1, ct);
        var aliceSummary = await aliceRun;

        // Eve measured every pulse in a random basis: about 25% errors in the bases Bob chose, and no key at all.
        Assert.StartsWith("aborted", bobSummary.Closing);
        Assert.Equal(bobSummary.Closing, aliceSummary.Closing);
        Assert.Equal(0, bobSummary.SecretBits);
        Assert.Empty(pool.Blocks);
        // Bob stopped listening early; the rest of Alice's light (and of his bases) went out unobserved instead of stalling her.
        Assert.True(receiver.Devices.CurrentSession!.Emission!.PulsesUnobserved > 0);
    }

    [Fact(Timeout = 300_000)]
    public async Task Without_the_basis_modulator_driver_bob_refuses_the_session_and_names_it()
    {
        string dir = Directory.CreateTempSubdirectory("qkd-active").FullName;
        var bobConfig = Config("bob", dir, ActiveProfile(dir), 5);
        var aliceConfig = Config("alice", dir, ActiveProfile(dir), 5);
        var profile = bobConfig.LinkProfile();
        using var receiver = EmulatedReceiver.Create(profile, EmulatedSetup.TaggerOptionsFor(bobConfig.LinkSettings(), long.MaxValue, profile.ReceiverLayout), 13,
            new IPEndPoint(IPAddress.Loopback, 0));
        using var transmitter = EmulatedTransmitter.Create(receiver.Fibre.EndPoint);
        receiver.ConnectAndConfigure(profile, 0);
        var bob = new BobEnd(bobConfig, receiver.Tagger, new RecordingPool(), NullLogger.Instance);
        var alice = new AliceEnd(aliceConfig, transmitter.Modulator, new RecordingPool(), NullLogger.Instance);
        var (aliceChannel, bobChannel) = InMemoryClassicalChannel.CreatePair();
        var ct = TestContext.Current.CancellationToken;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var aliceRun = Task.Run(() => alice.RunSessionAsync(aliceChannel, 1, stop.Token), stop.Token);

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => bob.RunSessionAsync(bobChannel, 1, ct));
        Assert.Contains("basis modulator", e.Message);
        stop.Cancel();
        await Assert.ThrowsAnyAsync<Exception>(() => aliceRun);
    }
}
