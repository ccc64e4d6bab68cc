using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Qkd.Core.Bits;
using Qkd.Core.Random;
using Qkd.Distillation.ErrorCorrection;

namespace Qkd.Benchmarks;

/// <summary>
/// Cascade on one 10^6-bit frame with the in-process oracle (Alice's responder and Bob's corrector on one core):
/// schedule from a fresh seed, both sides' permuted copies, every round. Extra columns: throughput in Mbit/s
/// (frame bits over the mean time) and the reconciliation efficiency f = leaked / (n h2(q)), averaged over a few
/// frames, with the rounds (oracle calls) per frame.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(Columns))]
public class CascadeBenchmarks
{
    public const int FrameBits = 1_000_000;

    private PackedBits _alice = null!;
    private PackedBits _noisyBob = null!;
    private ulong _seed;

    [Params(0.01, 0.02, 0.03, 0.05)]
    public double Qber { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        (_alice, _noisyBob) = NoisyFrames(Qber, 2024);
        var quality = Quality.Measure(Qber);
        Console.WriteLine($"// Cascade QBER {Qber:P1}: f = {quality.Efficiency:F4}, rounds {quality.Rounds:F0}, passes {quality.Passes:F1}");
    }

    [Benchmark(Description = "Cascade 1e6-bit frame (both ends, in process)")]
    public CascadeResult Reconcile()
    {
        // Bob's copy is corrected in place, so every invocation starts from a fresh copy of the noisy frame; each
        // frame gets its own seed (hence its own permutations), as on a link.
        var bob = _noisyBob.Clone();
        var schedule = CascadeSchedule.Create(FrameBits, Qber, ++_seed, CascadeOptions.Default);
        var responder = new CascadeResponder(_alice, schedule);
        return new CascadeCorrector(bob, schedule).RunAsync(new LocalParityOracle(responder)).AsTask().GetAwaiter().GetResult();
    }

    /// <summary>Alice's random frame and Bob's copy with i.i.d. errors at rate <paramref name="qber"/>.</summary>
    private static (PackedBits Alice, PackedBits Bob) NoisyFrames(double qber, ulong seed)
    {
        var random = new Xoshiro256StarStar(seed);
        var words = new ulong[PackedBits.WordCount(FrameBits)];
        for (int i = 0; i < words.Length; i++) words[i] = random.NextUInt64();
        var alice = PackedBits.FromWords(words, FrameBits);
        var bob = alice.Clone();
        for (int i = 0; i < FrameBits; i++)
            if (random.NextDouble() < qber) bob.Flip(i);
        return (alice, bob);
    }

    /// <summary>Efficiency and rounds at one QBER, averaged over a few seeded frames.</summary>
    private sealed record Quality(double Efficiency, double Rounds, double Passes)
    {
        private static readonly Dictionary<double, Quality> Cache = [];

        public static Quality Measure(double qber)
        {
            lock (Cache)
            {
                if (Cache.TryGetValue(qber, out var known)) return known;
                const int frames = 3;
                double leaked = 0, bound = 0, rounds = 0, passes = 0;
                for (int f = 0; f < frames; f++)
                {
                    var (alice, bob) = NoisyFrames(qber, 7000 + (ulong)f);
                    double actual = (double)alice.HammingDistance(bob) / FrameBits;
                    var schedule = CascadeSchedule.Create(FrameBits, qber, 1 + (ulong)f, CascadeOptions.Default);
                    var result = new CascadeCorrector(bob, schedule)
                        .RunAsync(new LocalParityOracle(new CascadeResponder(alice, schedule))).AsTask().GetAwaiter().GetResult();
                    if (!alice.ContentEquals(bob)) throw new InvalidOperationException($"Cascade left errors at QBER {qber}.");
                    leaked += result.LeakedBits;
                    bound += FrameBits * BinaryEntropy.H2(actual);
                    rounds += result.Rounds;
                    passes += result.PassesRun;
                }
                return Cache[qber] = new Quality(leaked / bound, rounds / frames, passes / frames);
            }
        }
    }

    private sealed class Columns : ManualConfig
    {
        public Columns()
        {
            AddColumn(new ThroughputColumn(), new QualityColumn("f", "Reconciliation efficiency leaked / (n h2(q)) (mean of 3 frames)", q => q.Efficiency.ToString("F4")),
                new QualityColumn("Rounds", "Oracle calls (round trips) per frame (mean of 3 frames)", q => q.Rounds.ToString("F0")));
        }
    }

    private sealed class ThroughputColumn : IColumn
    {
        public string Id => nameof(ThroughputColumn);
        public string ColumnName => "Mbit/s";
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 0;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => "Frame bits reconciled per second (10^6 bits over the mean time)";
        public bool IsAvailable(Summary summary) => true;
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var statistics = summary[benchmarkCase]?.ResultStatistics;
            return statistics is null ? "NA" : (FrameBits / statistics.Mean * 1e3).ToString("F1");
        }
    }

    private sealed class QualityColumn(string name, string legend, Func<Quality, string> format) : IColumn
    {
        public string Id => nameof(QualityColumn) + name;
        public string ColumnName => name;
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 1;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => legend;
        public bool IsAvailable(Summary summary) => true;
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) =>
            benchmarkCase.Parameters["Qber"] is double qber ? format(Quality.Measure(qber)) : "NA";
    }
}
