using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Qkd.Core.Bits;
using Qkd.Core.Random;
using Qkd.Distillation.ErrorCorrection;
using Qkd.Distillation.ErrorCorrection.Ldpc;

namespace Qkd.Benchmarks;

/// <summary>
/// Error correction of one 92,160-bit frame (the largest LDPC frame, n = 102,400), both ends in process on one core:
/// LDPC (Alice's syndrome, Bob's layered sum-product decoding, blind rounds until decoded) beside Cascade on the
/// same frame. Anchor (issue 14): >= 300 Mbit/s at QBER 2 %. Columns: Mbit/s, efficiency f = leaked / (n h2(q))
/// and round trips per frame (mean of 3 seeded frames).
/// </summary>
[MemoryDiagnoser]
[Config(typeof(Columns))]
public class LdpcBenchmarks
{
    public const int FrameBits = LdpcCodeFamily.MaximumFrameBits;

    private PackedBits _alice = null!;
    private PackedBits _noisyBob = null!;
    private ulong _seed;

    [Params(0.01, 0.02, 0.04, 0.06, 0.08)]
    public double Qber { get; set; }

    [Params("ldpc", "cascade")]
    public string Method { get; set; } = "ldpc";

    [GlobalSetup]
    public void Setup()
    {
        (_alice, _noisyBob) = NoisyFrames(Qber, 2024);
        var quality = Quality.Measure(Method, Qber);
        Console.WriteLine($"// {Method} QBER {Qber:P1}: f = {quality.Efficiency:F4}, rounds {quality.Rounds:F1}");
    }

    [Benchmark(Description = "Correct a 92,160-bit frame (both ends, one core)")]
    public long Reconcile()
    {
        var bob = _noisyBob.Clone();
        ++_seed;
        if (Method == "ldpc")
            return LdpcReconciliation.RunLocal(_alice, bob, Qber, LdpcOptions.Default, new Xoshiro256StarStar(_seed), parallel: false).LeakedBits;
        var schedule = CascadeSchedule.Create(FrameBits, Qber, _seed, CascadeOptions.Default);
        return new CascadeCorrector(bob, schedule).RunAsync(new LocalParityOracle(new CascadeResponder(_alice, schedule))).AsTask().GetAwaiter().GetResult().LeakedBits;
    }

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

    private sealed record Quality(double Efficiency, double Rounds)
    {
        private static readonly Dictionary<(string, double), Quality> Cache = [];

        public static Quality Measure(string method, double qber)
        {
            lock (Cache)
            {
                if (Cache.TryGetValue((method, qber), out var known)) return known;
                const int frames = 3;
                double leaked = 0, bound = 0, rounds = 0;
                for (int f = 0; f < frames; f++)
                {
                    var (alice, bob) = NoisyFrames(qber, 7000 + (ulong)f);
                    double actual = (double)alice.HammingDistance(bob) / FrameBits;
                    if (method == "ldpc")
                    {
                        var result = LdpcReconciliation.RunLocal(alice, bob, qber, LdpcOptions.Default, new Xoshiro256StarStar(1 + (ulong)f), parallel: false);
                        leaked += result.LeakedBits;
                        rounds += result.Rounds;
                    }
                    else
                    {
                        var schedule = CascadeSchedule.Create(FrameBits, qber, 1 + (ulong)f, CascadeOptions.Default);
                        var result = new CascadeCorrector(bob, schedule).RunAsync(new LocalParityOracle(new CascadeResponder(alice, schedule))).AsTask().GetAwaiter().GetResult();
                        leaked += result.LeakedBits;
                        rounds += result.Rounds;
                    }
                    if (!alice.ContentEquals(bob)) throw new InvalidOperationException($"{method} left errors at QBER {qber}.");
                    bound += FrameBits * BinaryEntropy.H2(actual);
                }
                return Cache[(method, qber)] = new Quality(leaked / bound, rounds / frames);
            }
        }
    }

    private sealed class Columns : ManualConfig
    {
        public Columns()
        {
            AddColumn(new Column("Mbit/s", "Frame bits corrected per second (92,160 bits over the mean time)", (s, b) =>
                    s[b]?.ResultStatistics is { } st ? (FrameBits / st.Mean * 1e3).ToString("F2") : "NA"),
                new Column("f", "Efficiency leaked / (n h2(q)), mean of 3 seeded frames", (s, b) => Get(b, q => q.Efficiency.ToString("F4"))),
                new Column("Rounds", "Round trips per frame (LDPC: 1 + blind rounds), mean of 3 frames", (s, b) => Get(b, q => q.Rounds.ToString("F1"))));
        }

        private static string Get(BenchmarkCase b, Func<Quality, string> format) =>
            b.Parameters["Qber"] is double q && b.Parameters["Method"] is string m ? format(Quality.Measure(m, q)) : "NA";
    }

    private sealed class Column(string name, string legend, Func<Summary, BenchmarkCase, string> value) : IColumn
    {
        public string Id => "Ldpc" + name;
        public string ColumnName => name;
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 0;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => legend;
        public bool IsAvailable(Summary summary) => true;
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => value(summary, benchmarkCase);
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => value(summary, benchmarkCase);
    }
}
