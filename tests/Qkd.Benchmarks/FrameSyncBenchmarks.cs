using BenchmarkDotNet.Attributes;
using Qkd.Reference;
using Qkd.Core;
using Qkd.Core.Random;
using Qkd.Distillation.FrameSync;

namespace Qkd.Benchmarks;

/// <summary>
/// Frame synchronisation as a session opens on the default link (1 GHz, 25 km: about 1.8 % of pulses detected): the
/// 2^20-pulse pilot, the window of 1 ms of unknown delay and half the pilot of lost syncs (1.5 M candidate offsets),
/// Bob off by 3 syncs. <see cref="PreChange"/> is the search before issue 14 (two binary searches per candidate),
/// <see cref="Find"/> the product's. One operation = one whole search.
/// </summary>
[MemoryDiagnoser]
public class FrameSyncBenchmarks
{
    private const int Pilot = 1 << 20;
    private byte[] _pilot = [];
    private Detection[] _bob = [];
    private FrameSyncWindow _window;

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Xoshiro256StarStar(4);
        _pilot = new byte[Pilot];
        for (int i = 0; i < Pilot; i++) _pilot[i] = (byte)(rng.NextUInt64() & 3);
        const long offset = 3 * 1024;
        var bob = new List<Detection>();
        for (long a = 0; a < 3L * Pilot; a++)
        {
            if (rng.NextDouble() >= 0.018) continue;
            byte code = a < Pilot ? _pilot[a] : (byte)(rng.NextUInt64() & 3);
            // Bob's basis matches Alice's 5/8 of the time (both 3/4 Z), his bit errs 2 % of the time.
            var basis = rng.NextDouble() < 0.625 ? (Basis)(code & 1) : (Basis)((code & 1) ^ 1);
            byte bit = (byte)((code >> 1) ^ (rng.NextDouble() < 0.02 ? 1 : 0));
            if (a - offset >= 0) bob.Add(new Detection(a - offset, basis, bit));
        }
        _bob = bob.ToArray();
        _window = FrameSyncWindow.For(Pilot, 1_000_000);
    }

    [Benchmark(Baseline = true)]
    public long? PreChange() => PrePilotCorrelation.Find(_bob, _pilot, _window.FirstCandidate, _window.LastCandidate).Offset;

    [Benchmark]
    public long? Find() => PilotCorrelation.Find(_bob, _pilot, _window.FirstCandidate, _window.LastCandidate).Offset;
}
