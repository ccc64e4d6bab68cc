using CsCheck;
using Qkd.Core;
using Qkd.Core.TimeTags;
using Qkd.Emulation;
using Qkd.Emulation.TimeTagging;
using Qkd.Reference;

namespace Qkd.Acquisition.Tests;

/// <summary>
/// <see cref="ClockRecovery"/> as rewritten for the tag path of issue 14 (per-detector state through refs, a full
/// channel table, one test for non-detector tags, the last pulse in a register, the sync gains from a table) against
/// the code it replaced (tests/Shared/Reference/PreTagPathClockRecovery.cs, main at 5edd6ce, with the gate-count
/// history and the folded-tag assignment): the same clicks and held clicks per batch, counters, per-detector gate and
/// arrival statistics bit for bit, gate-count checkpoints, drift, marker and arrival phase, on emulated streams damaged
/// at random and cut into random batches, with the arrival phase known or searched.
/// </summary>
public sealed class ClockRecoveryTagPathTests
{
    private static readonly Lazy<EmulatedTagStream[]> Streams = new(() =>
    [
        Stream(divider: 64, driftPpm: 50, seed: 3, darkHz: 0),
        Stream(divider: 1024, driftPpm: -30, seed: 4, darkHz: 2e6),
    ]);

    private static EmulatedTagStream Stream(int divider, double driftPpm, ulong seed, double darkHz) =>
        EmulatedTagStream.Generate(LinkProfile.Default.WithDistance(5) with { ClockDriftPpm = driftPpm, TimingJitterRmsPs = 100, ClockOffsetPs = 123_456_789 },
            new EmulatedTimeTaggerOptions
            {
                SyncChannel = 0,
                FirstDetectorChannel = 4,
                SyncDivider = divider,
                SyncDelayPs = 3_000,
                SyncJitterRmsPs = 100,
                DetectorDelaysPs = [0, 1_500, 3_700, 12_345],
                DarkCountRateHz = darkHz,
                EndPulse = 1_500_000,
            }, seed);

    private static readonly Gen<(int Kind, int Where, int Length, ushort Channel)> Edit =
        Gen.Select(Gen.Int[0, 7], Gen.Int[0, int.MaxValue], Gen.Int[1, 3000], Gen.OneOf(Gen.UShort[0, 10], Gen.UShort));

    [Fact]
    public void Clicks_counters_statistics_and_gate_history_match_the_code_before_the_rewrite()
    {
        Gen.Select(Gen.Int[0, 1], Edit.Array[0, 12], Gen.Int[1, 20_000], Gen.OneOf(Gen.Const(0), Gen.Int[1, 5000]), Gen.Double[100, 1000], Gen.Int[0, 2])
            .Sample((which, edits, batch, phaseSearch, gate, marker) =>
            {
                var stream = Streams.Value[which];
                var tags = new List<TimeTag>(stream.Tags);
                foreach (var (kind, where, length, channel) in edits)
                {
                    int at = where % Math.Max(1, tags.Count);
                    long time = tags.Count == 0 ? 0 : tags[at].TimePs;
                    switch (kind)
                    {
                        case 0: tags.RemoveRange(at, Math.Min(length, tags.Count - at)); break;
                        case 1: tags.Insert(at, new TimeTag(time, channel)); break;
                        case 2: tags.Insert(at, new TimeTag(time - length * 1000L, (ushort)(4 + length % 4))); break;
                        case 3: tags.Insert(at, new TimeTag(time, (ushort)(length % 8), TimeTagKind.Falling)); break;
                        case 4: tags.Insert(at, new TimeTag(time, 0, TimeTagKind.OverflowBegin)); tags.Insert(at + 1, new TimeTag(time, 0, TimeTagKind.OverflowEnd, (uint)length)); break;
                        case 5: tags.Insert(at, new TimeTag(time, 9)); break;
                        case 6: tags.Insert(at, new TimeTag(time + length, 0)); break;
                        default: tags.Insert(at, new TimeTag(time + length, (ushort)(4 + length % 4))); break;
                    }
                }
                var options = stream.MatchingOptions(gate) with
                {
                    ArrivalPhaseSearchTags = phaseSearch,
                    BasisMarkerChannel = marker == 0 ? null : (ushort)9,
                };
                if (phaseSearch > 0)
                    options = options with { PathDelayPs = Math.Round(options.PathDelayPs / options.PulsePeriodPs) * options.PulsePeriodPs };
                var expected = new PreTagPathClockRecovery(options);
                var actual = new ClockRecovery(options);
                var all = tags.ToArray();
                var expectedClicks = new DetectorClick[batch + expected.MaxHeldClicks];
                var actualClicks = new DetectorClick[batch + actual.MaxHeldClicks];
                for (int start = 0; start < all.Length; start += batch)
                {
                    var slice = all.AsSpan(start, Math.Min(batch, all.Length - start));
                    int e = expected.Process(slice, expectedClicks);
                    int a = actual.Process(slice, actualClicks);
                    Assert.Equal(expectedClicks.AsSpan(0, e).ToArray(), actualClicks.AsSpan(0, a).ToArray());
                    Assert.Equal(expected.HeldClicks, actual.HeldClicks);
                }
                int ef = expected.Flush(expectedClicks), af = actual.Flush(actualClicks);
                Assert.Equal(expectedClicks.AsSpan(0, ef).ToArray(), actualClicks.AsSpan(0, af).ToArray());
                Assert.Equal(expected.Counters, actual.Counters);
                Assert.Equal(expected.PeriodEstimatePs, actual.PeriodEstimatePs);
                Assert.Equal(expected.BasisMarkerPulse, actual.BasisMarkerPulse);
                Assert.Equal(expected.ArrivalPhasePs, actual.ArrivalPhasePs);
                Assert.Equal(expected.IsLocked, actual.IsLocked);
                for (int d = 0; d < options.DetectorChannels.Length; d++)
                {
                    Assert.Equal(expected.OutOfGate(d), actual.OutOfGate(d));
                    Assert.Equal(expected.ArrivalOffsetsOf(d), actual.ArrivalOffsetsOf(d));
                }
                Assert.Equal(expected.GateHistory.Recorded, actual.GateHistory.Recorded);
                long lastPulse = Math.Max(0, expected.LastSyncPulse);
                for (long pulse = 0; pulse <= lastPulse; pulse += Math.Max(1, lastPulse / 37))
                {
                    GateCounts? e = expected.GateHistory.At(pulse), a = actual.GateHistory.At(pulse);
                    Assert.Equal(e is null, a is null);
                    if (e is null) continue;
                    Assert.Equal(e.Pulse, a!.Pulse);
                    Assert.Equal(e.InGate, a.InGate);
                    Assert.Equal(e.OutOfGate, a.OutOfGate);
                    Assert.Equal(e.OffsetSumPs, a.OffsetSumPs);
                    Assert.Equal(e.OffsetSquaresPs2, a.OffsetSquaresPs2);
                }
            }, iter: 40, threads: 1);
    }
}
