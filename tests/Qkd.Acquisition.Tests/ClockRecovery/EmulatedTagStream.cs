using System.Numerics;
using Qkd.Core;
using Qkd.Core.Symbols;
using Qkd.Core.TimeTags;
using Qkd.Emulation;
using Qkd.Emulation.TimeTagging;

namespace Qkd.Acquisition.Tests;

/// <summary>
/// A pre-generated emulated tag stream with its ground truth, the clock-recovery options that match its wiring, and the
/// scoring of recovered clicks against the truth.
/// </summary>
internal sealed class EmulatedTagStream
{
    private EmulatedTagStream(LinkProfile profile, EmulatedTimeTaggerOptions wiring, TimeTag[] tags, TimeTagTruth[] truth)
    {
        Profile = profile;
        Wiring = wiring;
        Tags = tags;
        Truth = truth;
    }

    public LinkProfile Profile { get; }

    /// <summary>The light of the stream: the default link's (1 GHz).</summary>
    public TransmitterLight Light { get; } = TransmitterLight.Default;

    /// <summary>Alice's choices of the default link: Z with 0.75; signal, decoy, vacuum with 0.65, 0.25, 0.10.</summary>
    public static SymbolDistribution DefaultAlice => new(0.75, [0.65, 0.25, 0.10]);

    public EmulatedTimeTaggerOptions Wiring { get; }

    public TimeTag[] Tags { get; }

    public TimeTagTruth[] Truth { get; }

    public static EmulatedTagStream Generate(LinkProfile profile, EmulatedTimeTaggerOptions wiring, ulong seed = 1)
    {
        var link = new EmulatedLink(profile, TransmitterLight.Default, new SeededSymbolSource(seed + 100, DefaultAlice), seed);
        var tagger = new EmulatedTimeTagger(link, wiring, seed + 7);
        var tags = new List<TimeTag>();
        var truth = new List<TimeTagTruth>();
        var tagBuffer = new TimeTag[8192];
        var truthBuffer = new TimeTagTruth[8192];
        int n;
        while ((n = tagger.Read(tagBuffer, truthBuffer)) > 0)
        {
            tags.AddRange(tagBuffer.AsSpan(0, n));
            truth.AddRange(truthBuffer.AsSpan(0, n));
        }
        return new EmulatedTagStream(profile, wiring, tags.ToArray(), truth.ToArray());
    }

    /// <summary>Options calibrated for this stream: same channels, delays, divider; path delay = the fibre's.</summary>
    public ClockRecoveryOptions MatchingOptions(double? gateWidthPs = null) => new()
    {
        PulseRateHz = Light.PulseRateHz,
        SyncChannel = Wiring.SyncChannel,
        SyncDivider = Wiring.SyncDivider,
        DetectorChannels = Enumerable.Range(Wiring.FirstDetectorChannel, Profile.DetectorCount).Select(c => (ushort)c).ToArray(),
        DetectorDelaysPs = Wiring.DetectorDelaysPs,
        SyncDelayPs = Wiring.SyncDelayPs,
        PathDelayPs = Profile.FibreDelayPs,
        GateWidthPs = gateWidthPs ?? Light.PulsePeriodPs,
    };

    /// <summary>Runs the tags through <paramref name="recovery"/> in batches of <paramref name="batch"/> and flushes.</summary>
    public static DetectorClick[] Recover(ClockRecovery recovery, ReadOnlySpan<TimeTag> tags, int batch = 4096)
    {
        var all = new List<DetectorClick>();
        var clicks = new DetectorClick[batch + recovery.MaxHeldClicks];
        for (int start = 0; start < tags.Length; start += batch)
        {
            int n = recovery.Process(tags.Slice(start, Math.Min(batch, tags.Length - start)), clicks);
            all.AddRange(clicks.AsSpan(0, n));
        }
        int flushed = recovery.Flush(clicks);
        all.AddRange(clicks.AsSpan(0, flushed));
        return all.ToArray();
    }

    /// <summary>Time of the sync tag with which clock recovery locks (the <paramref name="syncsToLock"/>-th).</summary>
    public long LockTimePs(int syncsToLock) =>
        Tags.Where((_, i) => Truth[i].Origin == TimeTagOrigin.Sync).Skip(syncsToLock - 1).First().TimePs;

    /// <summary>
    /// Detector tags of the link (truth <see cref="TimeTagOrigin.Detection"/>) at or after <paramref name="fromTimePs"/>,
    /// how many of them the clicks hold at their true pulse, and how many detector bits the clicks hold that the truth
    /// does not have at that pulse.
    /// </summary>
    public (long Expected, long Correct, long Wrong) Score(IReadOnlyList<DetectorClick> clicks, long fromTimePs = long.MinValue)
    {
        var expected = new Dictionary<long, byte>();
        for (int i = 0; i < Tags.Length; i++)
            if (Truth[i].Origin == TimeTagOrigin.Detection && Tags[i].TimePs >= fromTimePs)
            {
                expected.TryGetValue(Truth[i].PulseIndex, out byte mask);
                expected[Truth[i].PulseIndex] = (byte)(mask | 1 << (Tags[i].Channel - Wiring.FirstDetectorChannel));
            }
        long expectedTags = expected.Values.Sum(m => (long)BitOperations.PopCount(m));
        long correct = 0, wrong = 0;
        for (int i = 0; i < clicks.Count; i++)
        {
            Assert.True(i == 0 || clicks[i].PulseIndex > clicks[i - 1].PulseIndex, $"click {i} is not after the one before");
            expected.TryGetValue(clicks[i].PulseIndex, out byte mask);
            correct += BitOperations.PopCount((uint)(clicks[i].ChannelMask & mask));
            wrong += BitOperations.PopCount((uint)(clicks[i].ChannelMask & ~mask));
        }
        return (expectedTags, correct, wrong);
    }
}
