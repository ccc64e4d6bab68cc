using Qkd.Hardware.Peripherals;
using Qkd.Node.Devices;
using Qkd.Hardware.RandomNumberGenerator;
using Qkd.Lab.Run;
using System.Diagnostics;
using Qkd.ClassicalChannel.Tests;
using Qkd.Acquisition;
using Qkd.Core;
using Qkd.Core.Random;
using Qkd.Distillation;
using Qkd.Core.Channel;
using Qkd.Emulation;
using Qkd.ClassicalChannel;
using Qkd.Kme.Pool;
using Qkd.Node.Link;

namespace Qkd.Node.Tests.Link;

/// <summary>
/// The real distillers over a TCP classical channel pair on loopback, built as <see cref="EmulatedLinkRunner"/> builds
/// them (active receiver: the emulator's clicks straight into the decoder): identical keys at both ends, and the same
/// key as over the in-memory channel. Single-frame blocks, and multi-frame blocks whose frames are corrected together
/// (multiplexed Cascade rounds over the authenticated channel). Wall times, message counts and pad spent per secret bit
/// go to the test output (they are figures, not assertions).
/// </summary>
public sealed class DistillersOverTcpTests : IDisposable
{
    private readonly TestPads _pads = new(padBytes: 64 << 20);

    public void Dispose() => _pads.Dispose();

    private sealed record Run(long SecretBits, int KeyBlocks, bool Identical, double WallSeconds, List<long> BlockIds, string Keys);

    private async Task<Run> RunLinkAsync(IClassicalChannel aliceChannel, IClassicalChannel bobChannel, string keys, long blockBits, int frameBits, double linkSeconds, CancellationToken token)
    {
        var profile = LinkProfile.Default.WithDistance(25) with { ReceiverLayout = ReceiverLayout.ActiveTwoDetector };
        const ulong seed = 21;
        var settings = LinkSettings.Default with { BlockSizeBits = blockBits };
        var symbols = EmulatedSetup.AliceSymbols(settings, seed);
        var link = EmulatedSetup.Link(profile, settings, symbols, seed);
        var options = settings.Distillation() with { FrameSizeBits = frameBits };
        var aliceStore = new FileKeySink(Path.Combine(keys, "alice"));
        var bobStore = new FileKeySink(Path.Combine(keys, "bob"));
        var alice = new AliceDistiller(aliceChannel, symbols, options, aliceStore, Xoshiro256StarStar.ForStream(seed, "alice-distiller"),
            Xoshiro256StarStar.ForStream(seed, "alice-distiller/toeplitz-seed"));
        var bob = new BobDistiller(bobChannel, options, bobStore);
        var decoder = new DetectionDecoder(profile.ReceiverLayout, Xoshiro256StarStar.ForStream(seed, "bob-squashing"));

        var wall = Stopwatch.StartNew();
        var aliceTask = Task.Run(() => alice.RunAsync(token), token);
        long endPulse = (long)Math.Round(settings.PulseRateHz * linkSeconds);
        var clicks = new DetectorClick[1 << 16];
        var detections = new Detection[1 << 16];
        while (true)
        {
            int n = link.Emit(clicks, endPulse);
            if (n == 0) break;
            int m = decoder.Decode(clicks.AsSpan(0, n), detections);
            if (m > 0) await bob.SiftAsync(detections.AsMemory(0, m), token);
        }
        await bob.FinishAsync(token);
        await aliceTask;
        wall.Stop();
        string digest = string.Join(",", bobStore.BlockIds.Select(id => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(bobStore.PathOf(id))))[..16]));
        return new Run(bob.SecretBits, bob.Blocks.Count(b => b.Outcome == BlockOutcome.Key), FileKeySink.HoldIdenticalKeys(aliceStore, bobStore) && alice.SecretBits == bob.SecretBits,
            wall.Elapsed.TotalSeconds, [.. bobStore.BlockIds], digest);
    }

    [Theory(Timeout = 600_000)]
    [InlineData(1L << 20, 1 << 20, 0.4)] // one frame per block
    [InlineData(1L << 22, 1 << 20, 1.0)] // four frames per block, corrected together
    public async Task The_distillers_over_tcp_make_identical_keys_equal_to_the_in_memory_run(long blockBits, int frameBits, double linkSeconds)
    {
        var token = TestContext.Current.CancellationToken;
        var (memA, memB) = InMemoryClassicalChannel.CreatePair();
        var inMemory = await RunLinkAsync(memA, memB, Path.Combine(_pads.Root, "mem"), blockBits, frameBits, linkSeconds, token);

        using var alicePad = _pads.Open(ChannelEnd.Alice);
        using var bobPad = _pads.Open(ChannelEnd.Bob);
        var (alice, bob) = _pads.Pair(alicePad, bobPad);
        Run overTcp;
        await using (alice)
        await using (bob)
        {
            overTcp = await RunLinkAsync(alice, bob, Path.Combine(_pads.Root, "tcp"), blockBits, frameBits, linkSeconds, token);
            Assert.Equal(0, alice.Security.RejectedTotal + bob.Security.RejectedTotal);
            var output = TestContext.Current.TestOutputHelper;
            long messages = alice.Statistics.MessagesSent + bob.Statistics.MessagesSent;
            long tagPadBits = (alice.Security.TagsCreated + bob.Security.TagsCreated) * 128;
            double padPerSecretBit = (double)tagPadBits / overTcp.SecretBits;
            output?.WriteLine($"in memory: {inMemory.WallSeconds:F2} s; over loopback TCP: {overTcp.WallSeconds:F2} s; {overTcp.KeyBlocks} key blocks of {blockBits} bits ({frameBits}-bit frames), {overTcp.SecretBits} secret bits");
            output?.WriteLine($"messages {messages} ({alice.Statistics.MessagesSent} from Alice, {bob.Statistics.MessagesSent} from Bob), bytes {alice.Statistics.BytesSent + bob.Statistics.BytesSent}");
            output?.WriteLine($"pad bits used: Alice {alicePad.Account.ConsumedBits} (tags {alice.Security.TagsCreated}), Bob {bobPad.Account.ConsumedBits} (tags {bob.Security.TagsCreated}); secret bits {overTcp.SecretBits}; tag pad per secret bit {padPerSecretBit:F3}");
            Console.Error.WriteLine($"[distillers-over-tcp] block {blockBits} frame {frameBits} mem {inMemory.WallSeconds:F3}s tcp {overTcp.WallSeconds:F3}s blocks {overTcp.KeyBlocks} secret {overTcp.SecretBits} messages {messages} tagsA {alice.Security.TagsCreated} tagsB {bob.Security.TagsCreated} pad/secret {padPerSecretBit:F3}");
        }

        Assert.True(overTcp.KeyBlocks >= 2, $"{overTcp.KeyBlocks} key blocks");
        Assert.True(overTcp.Identical);
        Assert.Equal(inMemory.SecretBits, overTcp.SecretBits);
        Assert.Equal(inMemory.BlockIds, overTcp.BlockIds);
        Assert.Equal(inMemory.Keys, overTcp.Keys);
    }
}
