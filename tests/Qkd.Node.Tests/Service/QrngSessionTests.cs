using Qkd.Hardware.RandomNumberGenerator;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Qkd.ClassicalChannel;
using Qkd.Core.Symbols;
using Qkd.Node.Devices;
using Qkd.Node.Entropy;
using Qkd.Node.Link;
using Qkd.Node.Service;
using Qkd.Node.Tests.Support;

namespace Qkd.Node.Tests.Service;

/// <summary>
/// A session whose symbols are keyed by a QRNG (the emulated one behind its driver, mixed with the OS CSPRNG): Alice
/// draws a fresh key for every epoch of 2^24 pulses she emits, and both ends still get the same key. (A QRNG that fails
/// its health tests: QrngEntropySourceTests and QrngConfigTests.)
/// </summary>
public class QrngSessionTests
{
    private static NodeConfig Config(string role, string dir) => new()
    {
        Role = role,
        LinkId = "qrng-session",
        ClassicalChannel = new ClassicalChannelConfig("127.0.0.1:1", "unused"),
        KeyPool = new KeyPoolConfig("unused.db", OperatorKeyFile: "unused"),
        Emulator = new EmulatorConfig("127.0.0.1:1", DistanceKm: 20, Seed: 17),
        DurationSeconds = 0.2,
        BlockSizeBits = 1 << 21,
        BaseDirectory = dir,
    };

    [Fact(Timeout = 300_000)]
    public async Task A_healthy_QRNG_keys_every_epoch_of_the_emission_and_both_ends_get_the_same_key()
    {
        var ct = TestContext.Current.CancellationToken;
        string dir = Directory.CreateTempSubdirectory("qkd-qrng-session").FullName;
        var aliceConfig = Config("alice", dir);
        var bobConfig = Config("bob", dir);
        var profile = bobConfig.LinkProfile();
        var settings = bobConfig.LinkSettings();
        using var qrng = NodeQrng.OpenEmulated(new EmulatedQrngConfig(), seed: 19, NullLogger.Instance);
        await qrng.WaitUntilHealthyAsync(ct);
        var alicePool = new RecordingPool();
        var bobPool = new RecordingPool();
        using var receiver = EmulatedReceiver.Create(profile, EmulatedSetup.TaggerOptionsFor(settings, long.MaxValue), 17, new IPEndPoint(IPAddress.Loopback, 0));
        using var transmitter = EmulatedTransmitter.Create(receiver.Fibre.EndPoint);
        receiver.ConnectAndConfigure(profile, 0);
        var alice = new AliceEnd(aliceConfig, transmitter.Modulator, alicePool, NullLogger.Instance, qrng);
        var bob = new BobEnd(bobConfig, receiver.Tagger, bobPool, NullLogger.Instance);

        var (aliceChannel, bobChannel) = InMemoryClassicalChannel.CreatePair();
        var aliceRun = Task.Run(() => alice.RunSessionAsync(aliceChannel, 1, ct), ct);
        var bobSummary = await bob.RunSessionAsync(bobChannel, 1, ct);
        var aliceSummary = await aliceRun;

        // Three 256-bit keys for the distiller's, Toeplitz and squashing sources, one per symbol epoch emitted.
        long epochs = (long)Math.Ceiling(0.2 * settings.PulseRateHz / (1L << RekeyedSymbolSource.DefaultEpochPulsesLog2));
        Assert.InRange(qrng.Draws, 3 + epochs, 3 + epochs + 1);
        Assert.True(bobSummary.SecretBits > 0, bobSummary.Closing);
        Assert.Equal(bobSummary.SecretBits, aliceSummary.SecretBits);
        Assert.Equal(alicePool.Blocks.Keys, bobPool.Blocks.Keys);
        foreach (var (id, key) in alicePool.Blocks) Assert.Equal(key, bobPool.Blocks[id]);
    }
}
