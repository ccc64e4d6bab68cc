using BenchmarkDotNet.Attributes;
using Qkd.Core;
using Qkd.Core.Symbols;
using Qkd.Emulation;
using Qkd.Node.Link;

namespace Qkd.Benchmarks;

/// <summary>
/// Emulator throughput in detections (clicks) per second: each operation is one emitted <see cref="DetectorClick"/>,
/// so BenchmarkDotNet's "Op/s" column is clicks per second on one core. The default profile at 25 km (about one click
/// per 54 pulses) is the reference case; the real-time requirement at 1 GHz is ~19 M clicks/s.
/// </summary>
[MemoryDiagnoser]
public class EmulatorBenchmarks
{
    private const int ClicksPerInvoke = 1 << 20;
    private const int BatchSize = 1 << 14;

    private readonly DetectorClick[] _batch = new DetectorClick[BatchSize];
    private EmulatedLink _link = null!;

    [Params(ReceiverLayout.PassiveFourDetector, ReceiverLayout.ActiveTwoDetector)]
    public ReceiverLayout Layout { get; set; }

    [Params("none", "intercept-resend:1", "pns")]
    public string Eavesdropper { get; set; } = "none";

    [GlobalSetup]
    public void Setup()
    {
        LinkProfile profile = LinkProfile.Default.WithDistance(25) with
        {
            ReceiverLayout = Layout,
            Eavesdropper = EavesdropperSpec.Parse(Eavesdropper),
        };
        _link = new EmulatedLink(profile, LinkSettings.Default.Light, new SeededSymbolSource(1, LinkSettings.Default.SymbolDistribution()), 2);
    }

    /// <summary>Emits exactly <see cref="ClicksPerInvoke"/> clicks (the link keeps running across invocations).</summary>
    [Benchmark(OperationsPerInvoke = ClicksPerInvoke)]
    public long EmitClicks()
    {
        long lastPulse = 0;
        for (int emitted = 0; emitted < ClicksPerInvoke; emitted += BatchSize)
        {
            int n = _link.Emit(_batch, long.MaxValue);
            lastPulse = _batch[n - 1].PulseIndex;
        }
        return lastPulse;
    }
}
