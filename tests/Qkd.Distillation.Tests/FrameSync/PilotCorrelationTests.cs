using CsCheck;
using Qkd.Core;
using Qkd.Core.Random;
using Qkd.Core.Symbols;
using Qkd.Distillation.FrameSync;
using Qkd.Distillation.Messages;
using Qkd.Distillation.Tests.Protocol;

namespace Qkd.Distillation.Tests.FrameSync;

/// <summary>
/// Frame synchronisation finds the whole-pulse offset between Bob's numbering and Alice's from a disclosed pilot, over
/// lost syncs and an unknown delay, and refuses when the pilot cannot tell: no light, or a pilot that repeats.
/// </summary>
public class PilotCorrelationTests
{
    private static readonly SymbolDistribution Symbols = new(0.75, [0.65, 0.25, 0.10]);
    private const int Pilot = 1 << 18;

    private static byte[] PilotOf(ISymbolSource alice) =>
        Enumerable.Range(0, Pilot).Select(i => PilotDisclosure.ValueOf(alice.SymbolAt(i))).ToArray();

    /// <summary>Bob's detections of Alice's first pulses, numbered as his clock recovery would: Alice's index minus <paramref name="offset"/>.</summary>
    private static Detection[] BobNumbered(SeededSymbolSource alice, long pulses, double qber, long offset) =>
        SyntheticBob.Detections(alice, pulses, qber, 11)
            .Select(d => d with { PulseIndex = d.PulseIndex - offset })
            .Where(d => d.PulseIndex >= 0)
            .ToArray();

    [Theory]
    [InlineData(0)]
    [InlineData(3 * 1024)] // three syncs lost at the start
    [InlineData(-122_345)] // 122 µs of fibre the clock recovery was not told
    [InlineData(5 * 1024 - 97_001)] // both
    public void The_offset_is_found_exactly(long offset)
    {
        var alice = new SeededSymbolSource(5, Symbols);
        var bob = BobNumbered(alice, 2_000_000, 0.03, offset);
        var window = FrameSyncWindow.For(Pilot, 200_000);
        var result = PilotCorrelation.Find(bob, PilotOf(alice), window.FirstCandidate, window.LastCandidate);
        Assert.Null(result.Failure);
        Assert.Equal(offset, result.Offset);
        Assert.InRange(result.PilotErrorRate, 0.01, 0.06);
        Assert.True(result.PilotSifted >= PilotCorrelation.MinimumSifted);
        Assert.Equal(window.LastCandidate - window.FirstCandidate + 1, result.Candidates);
    }

    [Fact]
    public void Detections_without_light_are_refused_not_guessed()
    {
        // Dark counts only: random pulses, bases and bits, independent of Alice's symbols.
        var alice = new SeededSymbolSource(5, Symbols);
        var rng = new Xoshiro256StarStar(3);
        var dark = new List<Detection>();
        for (long p = 0; p < 600_000; p += 1 + (long)(rng.NextUInt64() % 100))
            dark.Add(new Detection(p, (Basis)(rng.NextUInt64() & 1), (byte)(rng.NextUInt64() & 1)));
        var window = FrameSyncWindow.For(Pilot, 200_000);
        var result = PilotCorrelation.Find(dark.ToArray(), PilotOf(alice), window.FirstCandidate, window.LastCandidate);
        Assert.Null(result.Offset);
        Assert.StartsWith("frame synchronisation failed: no offset makes Bob's", result.Failure);
        Assert.Contains("is light arriving", result.Failure);
    }

    [Fact]
    public void No_detections_at_all_are_refused()
    {
        var alice = new SeededSymbolSource(5, Symbols);
        var result = PilotCorrelation.Find([], PilotOf(alice), -10, 10);
        Assert.Null(result.Offset);
        Assert.StartsWith("frame synchronisation failed: none of the 0 detections", result.Failure);
    }

    [Fact]
    public void A_pilot_that_repeats_every_sync_period_is_ambiguous_and_refused()
    {
        // Alice's symbols repeat with the sync divider: shifting by a sync period matches as well as the truth.
        var periodic = new PeriodicSymbols(new SeededSymbolSource(5, Symbols), 1024);
        var bob = SyntheticBob.Detections(new SeededSymbolSource(5, Symbols), 2_000_000, 0.03, 11)
            .Select(d => d with { Bit = (byte)(periodic.SymbolAt(d.PulseIndex).Basis == d.Basis ? periodic.SymbolAt(d.PulseIndex).Bit : d.Bit) })
            .ToArray();
        var pilot = Enumerable.Range(0, Pilot).Select(i => PilotDisclosure.ValueOf(periodic.SymbolAt(i))).ToArray();
        var result = PilotCorrelation.Find(bob, pilot, -2048, 2048);
        Assert.Null(result.Offset);
        Assert.StartsWith("frame synchronisation is ambiguous:", result.Failure);
    }

    private sealed class PeriodicSymbols(ISymbolSource inner, long period) : ISymbolSource
    {
        public SymbolDistribution Distribution => inner.Distribution;

        public PulseSymbol SymbolAt(long pulseIndex) => inner.SymbolAt(pulseIndex % period);
    }

    /// <summary>
    /// The search with its ranges walked down from candidate to candidate (issue 14) gives exactly the result of the former
    /// one, which searched each candidate's range afresh: offset, counts and failure message, on found, failed and
    /// ambiguous searches alike (random pilots, short and repeating ones, random offsets, QBERs and windows).
    /// </summary>
    [Fact]
    public void The_search_equals_the_former_one()
    {
        Gen.Select(Gen.Int[1, 4000], Gen.Int[0, 3], Gen.Int[-3000, 3000], Gen.Int[0, 40], Gen.Int[1, 4000], Gen.Int[0, 4000])
            .Sample((pilotLength, kind, offset, qberPercent, delay, late) =>
            {
                var random = new Random(pilotLength * 7919 + offset * 31 + qberPercent);
                var pilot = new byte[pilotLength];
                for (int i = 0; i < pilotLength; i++) pilot[i] = (byte)(kind == 3 ? (i % 64) & 3 : random.Next(4));
                var bob = new List<Detection>();
                double density = kind == 0 ? 0.5 : 0.05;
                for (long a = 0; a < pilotLength + 6000; a++)
                {
                    if (random.NextDouble() >= density) continue;
                    long p = a - offset;
                    if (p < 0) continue;
                    byte code = a < pilotLength ? pilot[a] : (byte)random.Next(4);
                    var basis = random.Next(4) == 0 ? (Basis)(code & 1) ^ (Basis)1 : (Basis)(code & 1);
                    byte bit = (byte)((code >> 1) ^ (random.Next(100) < qberPercent ? 1 : 0));
                    if (kind == 2) bit = (byte)random.Next(2); // no correlation: a failure
                    bob.Add(new Detection(p, basis, bit));
                }
                var detections = bob.ToArray();
                long first = -delay, last = late, expected = random.Next(3) == 0 ? offset : 0;
                var before = Qkd.Reference.PrePilotCorrelation.Find(detections, pilot, first, last, expected);
                var after = PilotCorrelation.Find(detections, pilot, first, last, expected);
                Assert.Equal(before, after);
            }, iter: 300);
    }

    /// <summary>
    /// The sixteen-candidates-at-once walk (issue 14) on long pilots, where the right and the expected offsets outlive the
    /// walk's 6,000 detections in 16-bit lanes and go on one by one: still the former search's result, on found, failed
    /// and ambiguous searches, with windows that are not a multiple of 16 wide and the expected offset anywhere in a group.
    /// </summary>
    [Fact]
    public void The_sixteen_lane_search_equals_the_former_one_on_long_pilots()
    {
        Gen.Select(Gen.Int[8000, 40000], Gen.Int[0, 3], Gen.Int[-300, 300], Gen.Int[0, 40], Gen.Int[1, 300], Gen.Int[0, 300])
            .Sample((pilotLength, kind, offset, qberPercent, delay, late) =>
            {
                var random = new Random(pilotLength * 7919 + offset * 31 + qberPercent);
                var pilot = new byte[pilotLength];
                for (int i = 0; i < pilotLength; i++) pilot[i] = (byte)(kind == 3 ? (i % 64) & 3 : random.Next(4));
                var bob = new List<Detection>();
                double density = kind == 0 ? 0.6 : 0.3;
                for (long a = 0; a < pilotLength + 600; a++)
                {
                    if (random.NextDouble() >= density) continue;
                    long p = a - offset;
                    if (p < 0) continue;
                    byte code = a < pilotLength ? pilot[a] : (byte)random.Next(4);
                    var basis = random.Next(4) == 0 ? (Basis)(code & 1) ^ (Basis)1 : (Basis)(code & 1);
                    byte bit = (byte)((code >> 1) ^ (random.Next(100) < qberPercent ? 1 : 0));
                    if (kind == 2) bit = (byte)random.Next(2);
                    bob.Add(new Detection(p, basis, bit));
                }
                var detections = bob.ToArray();
                long first = -delay, last = late, expected = random.Next(3) == 0 ? offset : random.Next(-delay, late + 1);
                var before = Qkd.Reference.PrePilotCorrelation.Find(detections, pilot, first, last, expected);
                var after = PilotCorrelation.Find(detections, pilot, first, last, expected);
                Assert.Equal(before, after);
            }, iter: 40);
    }
}
