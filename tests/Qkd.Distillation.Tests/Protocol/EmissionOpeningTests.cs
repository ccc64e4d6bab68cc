using Qkd.Core;
using Qkd.Core.Random;
using Qkd.Core.Symbols;
using Qkd.Distillation.FrameSync;
using Qkd.Distillation.Messages;
using Qkd.Distillation.Protocol;
using Qkd.ClassicalChannel;

namespace Qkd.Distillation.Tests.Protocol;

/// <summary>
/// A session opens with Alice's announcement of the emission and Bob's answer: Alice learns that his tagger streams (or
/// why he refuses), Bob learns the emission's length and drops what lies beyond it.
/// </summary>
public class EmissionOpeningTests
{
    private static readonly DistillationOptions Options = new()
    {
        MeanPhotonNumbers = [0.5, 0.15, 0.0],
        IntensityProbabilities = [0.65, 0.25, 0.10],
        BlockSizeBits = 1 << 16,
        FrameSizeBits = 1 << 14,
        MinimumFinalBlockBits = 1 << 12,
    };

    private static readonly SymbolDistribution Symbols = new(0.75, [0.65, 0.25, 0.10]);

    [Fact]
    public async Task Bob_learns_the_emission_and_drops_detections_beyond_its_end()
    {
        var ct = TestContext.Current.CancellationToken;
        var (ca, cb) = InMemoryClassicalChannel.CreatePair();
        var alice = new AliceDistiller(ca, new SeededSymbolSource(5, Symbols), Options, new MemoryKeySink(), new Xoshiro256StarStar(9));
        var bob = new BobDistiller(cb, Options, new MemoryKeySink());
        var announced = alice.AnnounceEmissionAsync(new EmissionAnnouncement(4_000_000, 1e9, 1024), ct);
        var emission = await bob.ReceiveEmissionAnnouncementAsync(ct);
        Assert.Equal(new EmissionAnnouncement(4_000_000, 1e9, 1024), emission);
        Assert.False(announced.IsCompleted); // Alice waits for Bob's tagger
        await bob.ConfirmReceiverReadyAsync(emission, cancellationToken: ct);
        await announced;
        Assert.Equal(emission, alice.Emission);

        // Detections of a 5,000,000-pulse stretch: those from pulse 4,000,000 on are not Alice's emission.
        var detections = SyntheticBob.Detections(new SeededSymbolSource(5, Symbols), 5_000_000, 0.02, 7);
        int beyond = detections.Count(d => d.PulseIndex >= 4_000_000);
        Assert.True(beyond > 1000);
        var aliceRun = Task.Run(() => alice.RunAsync(ct), ct);
        await bob.SiftAsync(detections, ct);
        string closing = await bob.FinishAsync(ct);
        Assert.Equal(closing, await aliceRun);
        Assert.Equal(beyond, bob.DetectionsBeyondEmission);
        Assert.Equal(detections.Length - beyond, alice.Sifting.Detections);
        Assert.NotEmpty(bob.Blocks); // the emission's detections were distilled (too few for a finite key: not the point)
    }

    [Fact]
    public async Task A_refused_emission_fails_Alice_with_Bobs_reason()
    {
        var ct = TestContext.Current.CancellationToken;
        var (ca, cb) = InMemoryClassicalChannel.CreatePair();
        var alice = new AliceDistiller(ca, new SeededSymbolSource(5, Symbols), Options, new MemoryKeySink(), new Xoshiro256StarStar(9));
        var bob = new BobDistiller(cb, Options, new MemoryKeySink());
        var announced = alice.AnnounceEmissionAsync(new EmissionAnnouncement(1000, 1e9, 512), ct);
        var emission = await bob.ReceiveEmissionAnnouncementAsync(ct);
        await bob.RefuseEmissionAsync($"sync divider: Alice {emission.PulsesPerSync}, Bob 1024", ct);
        var e = await Assert.ThrowsAsync<ProtocolException>(() => announced);
        Assert.Equal("Bob refused the emission: sync divider: Alice 512, Bob 1024", e.Message);
        Assert.Null(alice.Emission);
    }

    [Fact]
    public async Task Alice_refuses_a_sift_request_beyond_the_announced_emission()
    {
        var ct = TestContext.Current.CancellationToken;
        var (ca, cb) = InMemoryClassicalChannel.CreatePair();
        var alice = new AliceDistiller(ca, new SeededSymbolSource(5, Symbols), Options, new MemoryKeySink(), new Xoshiro256StarStar(9));
        var announced = alice.AnnounceEmissionAsync(new EmissionAnnouncement(1000, 1e9, 1024), ct);
        // A Bob that accepts but then names a pulse past the end (a correct Bob drops such detections himself).
        var bob = new BobDistiller(cb, Options, new MemoryKeySink());
        await bob.ReceiveEmissionAnnouncementAsync(ct);
        await cb.SendAsync(new ReceiverReady().Write(new ProtocolWriter()), ct);
        await announced;
        var aliceRun = Task.Run(() => alice.RunAsync(ct), ct);
        await cb.SendAsync(new SiftRequest(new long[] { 10, 1000 }, new byte[] { 0, 1 }).Write(new ProtocolWriter()), ct);
        var e = await Assert.ThrowsAsync<ProtocolException>(() => aliceRun);
        Assert.Contains("names pulse 1000, beyond the emission of 1000 pulses", e.Message);
    }

    [Fact]
    public async Task Bob_synchronises_on_the_pilot_and_the_keys_match_without_pilot_pulses()
    {
        var ct = TestContext.Current.CancellationToken;
        var (ca, cb) = InMemoryClassicalChannel.CreatePair();
        var aliceKeys = new MemoryKeySink();
        var bobKeys = new MemoryKeySink();
        var options = Options with { BlockSizeBits = 1 << 20, FrameSizeBits = 1 << 18, MinimumFinalBlockBits = 1 << 20 };
        var alice = new AliceDistiller(ca, new SeededSymbolSource(5, Symbols), options, aliceKeys, new Xoshiro256StarStar(9));
        var bob = new BobDistiller(cb, options, bobKeys);
        var emission = new EmissionAnnouncement(120_000_000, 1e9, 1024, 1 << 18);
        var announced = alice.AnnounceEmissionAsync(emission, ct);
        await bob.ConfirmReceiverReadyAsync(await bob.ReceiveEmissionAnnouncementAsync(ct), FrameSyncWindow.For(1 << 18, 300_000), ct);
        await announced;
        var aliceRun = Task.Run(() => alice.RunAsync(ct), ct);

        // Bob's clock recovery counted from the fourth sync and was told 200,000 pulses of fibre too few.
        const long offset = 3 * 1024 - 200_000;
        var detections = SyntheticBob.Detections(new SeededSymbolSource(5, Symbols), 120_000_000, 0.02, 7);
        var numbered = detections.Select(d => d with { PulseIndex = d.PulseIndex - offset }).Where(d => d.PulseIndex >= 0).ToArray();
        for (int i = 0; i < numbered.Length && bob.AbortReason is null; i += 5000)
            await bob.SiftAsync(numbered.AsMemory(i, Math.Min(5000, numbered.Length - i)), ct);
        string closing = await bob.FinishAsync(ct);
        Assert.Equal(closing, await aliceRun);

        Assert.Equal(offset, bob.FrameSync!.Offset);
        long pilotDetections = detections.Count(d => d.PulseIndex < (1 << 18) && d.PulseIndex >= offset);
        Assert.Equal(pilotDetections, bob.PilotDetections);
        Assert.Equal(detections.Count(d => d.PulseIndex >= 1 << 18), alice.Sifting.Detections);
        Assert.True(bob.SecretBits > 0, closing);
        Assert.Equal(aliceKeys.Keys.Keys, bobKeys.Keys.Keys);
        foreach (var (id, key) in aliceKeys.Keys) Assert.Equal(key, bobKeys.Keys[id]);
    }
}
