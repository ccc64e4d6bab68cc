using CsCheck;
using Qkd.Core;
using Qkd.Core.TimeTags;
using Qkd.Emulation;
using Qkd.Emulation.TimeTagging;
using Qkd.Reference;

namespace Qkd.Acquisition.Tests;

/// <summary>
/// <see cref="ClockRecovery"/> as rewritten for issue 14 (one struct per detector, a full channel table, no range tests,
/// the last pulse kept in a register) against the former one (tests/Shared/Reference/ReferenceClockRecovery.cs): the
/// same clicks, counters, per-detector gate and arrival statistics (bit for bit), drift, marker and held clicks, on
/// emulated streams damaged at random (tags dropped, junk, disorder, overflows, falling edges, a basis marker) and cut
/// into random batches.
/// </summary>
public sealed class ClockRecoveryReferenceTests
{
    private static readonly Lazy<EmulatedTagStream[]> Streams = new(() =>
    [
        Stream(divider: 64, driftPpm: 50, seed: 1),
        Stream(divider: 1024, driftPpm: -30, seed: 2),
    ]);

    private static EmulatedTagStream Stream(int divider, double driftPpm, ulong seed) =>
        EmulatedTagStream.Generate(LinkProfile.Default.WithDistance(5) with { ClockDriftPpm = driftPpm, TimingJitterRmsPs = 100, ClockOffsetPs = 123_456_789 },
            new EmulatedTimeTaggerOptions
            {
                SyncChannel = 0,
                FirstDetectorChannel = 4,
                SyncDivider = divider,
                SyncDelayPs = 3_000,
                SyncJitterRmsPs = 100,
                DetectorDelaysPs = [0, 1_500, 3_700, 12_345],
                EndPulse = 400_000,
            }, seed);

    /// <summary>One change to a stream at a random place: drop a stretch, a junk tag, a step back in time.</summary>
    private static readonly Gen<(int Kind, int Where, int Length, ushort Channel)> Edit =
        Gen.Select(Gen.Int[0, 7], Gen.Int[0, int.MaxValue], Gen.Int[1, 3000], Gen.OneOf(Gen.UShort[0, 10], Gen.UShort));

    [Fact]
    public void Clicks_counters_and_statistics_match_the_former_clock_recovery()
    {
        // Known arrival phase only: with the phase searched, the former code dropped the folded tags and the current one
        // assigns them once the phase is found (issue 16), which ClockRecoveryTests checks against a run told the delay.
        Gen.Select(Gen.Int[0, 1], Edit.Array[0, 12], Gen.Int[1, 9000], Gen.Const(0), Gen.Double[100, 1000], Gen.Int[0, 2])
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
                        case 5: tags.Insert(at, new TimeTag(time, 9)); break; // the basis marker input, when there is one
                        case 6: tags.Insert(at, new TimeTag(time + length, 0)); break; // a spurious sync
                        default: tags.Insert(at, new TimeTag(time + length, (ushort)(4 + length % 4))); break;
                    }
                }
                var options = stream.MatchingOptions(gate) with
                {
                    ArrivalPhaseSearchTags = phaseSearch,
                    BasisMarkerChannel = marker == 0 ? null : (ushort)9,
                };
                var expected = new ReferenceClockRecovery(options);
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
            }, iter: 60, threads: 1);
    }
}
