using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Qkd.Acquisition;
using Qkd.Core;
using Qkd.Core.Symbols;
using Qkd.Core.TimeTags;
using Qkd.Emulation;
using Qkd.Node.Link;
using Qkd.Emulation.TimeTagging;
using Qkd.Core.Random;
using Qkd.Reference;

namespace Qkd.Benchmarks;

/// <summary>
/// Time-tag path throughput, one operation = one tag (BenchmarkDotNet's "Op/s" is tags per second on one core):
/// <see cref="Recover"/> runs <see cref="ClockRecovery"/> over a pre-generated emulated stream (default 25 km link,
/// 50 ppm drift, 100 ps jitter, four detectors with different cable delays, sync every <see cref="SyncDivider"/> pulses)
/// in batches of 4096 tags; <see cref="EmulateTags"/> measures the emulated tagger (link physics included).
/// Target (issue 14): clock recovery + decode >= 300 M tags/s on one core. Each category has the code as it was before the
/// issue-14 rewrite (<see cref="ReferenceClockRecovery"/>) as its baseline, so the ratio is measured in the same run.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class ClockRecoveryBenchmarks
{
    private const int TagCount = 1 << 21;
    private const int Batch = 4096;

    private static readonly LinkProfile Profile = LinkProfile.Default with { ClockDriftPpm = 50, TimingJitterRmsPs = 100 };

    private TimeTag[] _tags = [];
    private DetectorClick[] _clicks = [];
    private ClockRecoveryOptions _options = null!;
    private EmulatedTimeTagger _tagger = null!;
    private readonly TimeTag[] _tagBatch = new TimeTag[Batch];

    [Params(1024, 65536)]
    public int SyncDivider { get; set; }

    private EmulatedTimeTaggerOptions Wiring => new()
    {
        SyncChannel = 0,
        FirstDetectorChannel = 1,
        SyncDivider = SyncDivider,
        SyncJitterRmsPs = 100,
        DetectorDelaysPs = [0, 1_500, 3_700, 12_345],
    };

    [GlobalSetup]
    public void Setup()
    {
        var tagger = NewTagger(1);
        _tags = new TimeTag[TagCount];
        for (int filled = 0; filled < TagCount;)
            filled += tagger.Read(_tags.AsSpan(filled));
        _options = new ClockRecoveryOptions
        {
            PulseRateHz = LinkSettings.Default.PulseRateHz,
            SyncDivider = SyncDivider,
            DetectorChannels = [1, 2, 3, 4],
            DetectorDelaysPs = Wiring.DetectorDelaysPs,
            PathDelayPs = Profile.FibreDelayPs,
            GateWidthPs = 600,
        };
        _clicks = new DetectorClick[Batch + new ClockRecovery(_options).MaxHeldClicks];
        _tagger = NewTagger(2);
    }

    private EmulatedTimeTagger NewTagger(ulong seed) =>
        new(new EmulatedLink(Profile, LinkSettings.Default.Light, new SeededSymbolSource(seed, LinkSettings.Default.SymbolDistribution()), seed), Wiring, seed);

    /// <summary>All pre-generated tags through a fresh clock recovery (a new stream each time: pulse 0 at the first sync).</summary>
    [Benchmark(OperationsPerInvoke = TagCount), BenchmarkCategory("Recover")]
    public long Recover()
    {
        var recovery = new ClockRecovery(_options);
        ReadOnlySpan<TimeTag> tags = _tags;
        long clicks = 0;
        for (int start = 0; start < tags.Length; start += Batch)
            clicks += recovery.Process(tags.Slice(start, Math.Min(Batch, tags.Length - start)), _clicks);
        return clicks + recovery.Flush(_clicks);
    }

    /// <summary><see cref="Recover"/> with the clock recovery as it was before issue 14 (the baseline).</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = TagCount), BenchmarkCategory("Recover")]
    public long RecoverBaseline()
    {
        var recovery = new ReferenceClockRecovery(_options);
        ReadOnlySpan<TimeTag> tags = _tags;
        long clicks = 0;
        for (int start = 0; start < tags.Length; start += Batch)
            clicks += recovery.Process(tags.Slice(start, Math.Min(Batch, tags.Length - start)), _clicks);
        return clicks + recovery.Flush(_clicks);
    }

    /// <summary>Clock recovery and decoding as they were before issue 14 (the baseline of <see cref="RecoverDecode"/>).</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = TagCount), BenchmarkCategory("RecoverDecode")]
    public long RecoverDecodeBaseline()
    {
        var recovery = new ReferenceClockRecovery(_options);
        var decoder = new DetectionDecoder(ReceiverLayout.PassiveFourDetector, new Xoshiro256StarStar(4));
        ReadOnlySpan<TimeTag> tags = _tags;
        long detections = 0;
        for (int start = 0; start < tags.Length; start += Batch)
        {
            int clicks = recovery.Process(tags.Slice(start, Math.Min(Batch, tags.Length - start)), _clicks);
            detections += decoder.Decode(_clicks.AsSpan(0, clicks), _detections);
        }
        return detections;
    }

    private readonly Detection[] _detections = new Detection[Batch + 4096];

    /// <summary>Clock recovery and decoding with the decoder before its branch-free rewrite (<see cref="ReferenceDetectionDecoder"/>), per tag.</summary>
    [Benchmark(OperationsPerInvoke = TagCount), BenchmarkCategory("RecoverDecode")]
    public long RecoverDecodeReference()
    {
        var recovery = new ClockRecovery(_options);
        var decoder = new ReferenceDetectionDecoder(ReceiverLayout.PassiveFourDetector, new Xoshiro256StarStar(4));
        ReadOnlySpan<TimeTag> tags = _tags;
        long detections = 0;
        for (int start = 0; start < tags.Length; start += Batch)
        {
            int clicks = recovery.Process(tags.Slice(start, Math.Min(Batch, tags.Length - start)), _clicks);
            detections += decoder.Decode(_clicks.AsSpan(0, clicks), _detections);
        }
        return detections;
    }

    /// <summary>Clock recovery and decoding (the product's decoder), per tag.</summary>
    [Benchmark(OperationsPerInvoke = TagCount), BenchmarkCategory("RecoverDecode")]
    public long RecoverDecode()
    {
        var recovery = new ClockRecovery(_options);
        var decoder = new DetectionDecoder(ReceiverLayout.PassiveFourDetector, new Xoshiro256StarStar(4));
        ReadOnlySpan<TimeTag> tags = _tags;
        long detections = 0;
        for (int start = 0; start < tags.Length; start += Batch)
        {
            int clicks = recovery.Process(tags.Slice(start, Math.Min(Batch, tags.Length - start)), _clicks);
            detections += decoder.Decode(_clicks.AsSpan(0, clicks), _detections);
        }
        return detections;
    }

    /// <summary>Clock recovery alone as it was on main before the tag-path rewrite (5edd6ce, with the gate-count history): the baseline of <see cref="RecoverTagPath"/>.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = TagCount), BenchmarkCategory("TagPathRecover")]
    public long RecoverPreTagPath()
    {
        var recovery = new PreTagPathClockRecovery(_options);
        ReadOnlySpan<TimeTag> tags = _tags;
        long clicks = 0;
        for (int start = 0; start < tags.Length; start += Batch)
            clicks += recovery.Process(tags.Slice(start, Math.Min(Batch, tags.Length - start)), _clicks);
        return clicks + recovery.Flush(_clicks);
    }

    /// <summary>Clock recovery alone (the product's), per tag; same batches as <see cref="RecoverPreTagPath"/>.</summary>
    [Benchmark(OperationsPerInvoke = TagCount), BenchmarkCategory("TagPathRecover")]
    public long RecoverTagPath() => Recover();

    /// <summary>
    /// Clock recovery and decoding as the front end ran them on main before the tag-path rewrite (5edd6ce): the former
    /// clock recovery and decoder over a batch of <see cref="FrontEndBatch"/> tags, then the decoder over all its clicks.
    /// </summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = TagCount), BenchmarkCategory("TagPathRecoverDecode")]
    public long RecoverDecodePreTagPath()
    {
        var recovery = new PreTagPathClockRecovery(_options);
        var decoder = new PreTagPathDetectionDecoder(ReceiverLayout.PassiveFourDetector, new Xoshiro256StarStar(4));
        ReadOnlySpan<TimeTag> tags = _tags;
        long detections = 0;
        for (int start = 0; start < tags.Length; start += FrontEndBatch)
        {
            int clicks = recovery.Process(tags.Slice(start, Math.Min(FrontEndBatch, tags.Length - start)), _frontEndClicks);
            detections += decoder.Decode(_frontEndClicks.AsSpan(0, clicks), _frontEndDetections);
        }
        return detections;
    }

    /// <summary>
    /// Clock recovery and decoding as the front end runs them now: each batch of <see cref="FrontEndBatch"/> tags in
    /// slices of <c>TimeTagFrontEnd.SliceTags</c>, each slice's clicks decoded while they are in cache.
    /// </summary>
    [Benchmark(OperationsPerInvoke = TagCount), BenchmarkCategory("TagPathRecoverDecode")]
    public long RecoverDecodeTagPath()
    {
        var recovery = new ClockRecovery(_options);
        var decoder = new DetectionDecoder(ReceiverLayout.PassiveFourDetector, new Xoshiro256StarStar(4));
        ReadOnlySpan<TimeTag> tags = _tags;
        long detections = 0;
        for (int start = 0; start < tags.Length; start += FrontEndBatch)
        {
            var batch = tags.Slice(start, Math.Min(FrontEndBatch, tags.Length - start));
            int decoded = 0;
            for (int at = 0; at < batch.Length; at += TimeTagFrontEnd.SliceTags)
            {
                int clicks = recovery.Process(batch.Slice(at, Math.Min(TimeTagFrontEnd.SliceTags, batch.Length - at)), _frontEndClicks);
                decoded += decoder.Decode(_frontEndClicks.AsSpan(0, clicks), _frontEndDetections.AsSpan(decoded));
            }
            detections += decoded;
        }
        return detections;
    }

    /// <summary>The replay's batch: 2^16 detections less the clicks clock recovery may hold.</summary>
    private const int FrontEndBatch = 60_000;
    private readonly DetectorClick[] _frontEndClicks = new DetectorClick[1 << 16];
    private readonly Detection[] _frontEndDetections = new Detection[1 << 16];

    /// <summary>Tags produced by the emulated tagger (the run continues across invocations).</summary>
    [Benchmark(OperationsPerInvoke = TagCount), BenchmarkCategory("Emulate")]
    public long EmulateTags()
    {
        long last = 0;
        for (int produced = 0; produced < TagCount;)
        {
            int n = _tagger.Read(_tagBatch);
            produced += n;
            last = _tagBatch[n - 1].TimePs;
        }
        return last;
    }
}
