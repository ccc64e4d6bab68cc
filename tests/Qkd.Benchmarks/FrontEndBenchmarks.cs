using BenchmarkDotNet.Attributes;
using Qkd.Acquisition;
using Qkd.Core;
using Qkd.Core.Random;
using Qkd.Core.Symbols;
using Qkd.Core.TimeTags;
using Qkd.Emulation;
using Qkd.Emulation.TimeTagging;
using Qkd.Node.Link;

namespace Qkd.Benchmarks;

/// <summary>
/// Acquisition + clock recovery end to end, one operation = one tag: a pre-recorded emulated stream (25 km, default
/// profile) is served by an in-memory tagger to the <see cref="TimeTagFrontEnd"/>, whose acquisition thread drains it
/// into the ring while the benchmark thread recovers the clock and decodes detections.
/// </summary>
[MemoryDiagnoser]
public class FrontEndBenchmarks
{
    private const int TagCount = 1 << 22;
    private TimeTag[] _tags = [];
    private readonly Detection[] _detections = new Detection[1 << 16];
    private ClockRecoveryOptions _clock = null!;

    /// <summary>Serves a fixed array of tags in batches, as a tagger driver would.</summary>
    private sealed class ArrayTagger(TimeTag[] tags) : ITimeTagSource
    {
        private int _next;
        public string Name => "in-memory tagger";

        public int Read(Span<TimeTag> destination, CancellationToken cancellationToken = default)
        {
            int n = Math.Min(destination.Length, tags.Length - _next);
            tags.AsSpan(_next, n).CopyTo(destination);
            _next += n;
            return n;
        }
    }

    [GlobalSetup]
    public void Setup()
    {
        var profile = LinkProfile.Default;
        var settings = LinkSettings.Default;
        var link = new EmulatedLink(profile, settings.Light, new SeededSymbolSource(1, settings.SymbolDistribution()), 2);
        var wiring = EmulatedSetup.TaggerOptionsFor(settings, long.MaxValue);
        var tagger = new EmulatedTimeTagger(link, wiring, 3);
        _tags = new TimeTag[TagCount];
        for (int filled = 0; filled < TagCount;)
            filled += tagger.Read(_tags.AsSpan(filled));
        _clock = EmulatedSetup.ClockRecoveryOptionsFor(profile, settings, wiring);
    }

    [Benchmark(OperationsPerInvoke = TagCount)]
    public long AcquireRecoverDecode()
    {
        using var frontEnd = new TimeTagFrontEnd(new ArrayTagger(_tags), _clock, ReceiverLayout.PassiveFourDetector, new Xoshiro256StarStar(4));
        frontEnd.Start();
        long detections = 0;
        int n;
        while ((n = frontEnd.Read(_detections)) > 0) detections += n;
        return detections;
    }
}
