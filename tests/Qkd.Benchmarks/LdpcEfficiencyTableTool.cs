using System.Globalization;
using Qkd.Core.Bits;
using Qkd.Core.Random;
using Qkd.Distillation.ErrorCorrection;
using Qkd.Distillation.ErrorCorrection.Ldpc;

namespace Qkd.Benchmarks;

/// <summary>
/// Regenerates <see cref="LdpcCodeFamily.DecodableEfficiencyTable"/>: for each QBER of the table, the smallest f on a
/// grid of 0.02 (from 1.00 to 1.80) at which every one of the seeded frames decodes at the first attempt (no blind
/// round) with the mother code <see cref="LdpcCodeFamily.Plan"/> picks at that f. With the default 10 frames that is
/// "at least 9 in 10" read strictly (all 10; one failure in 10 is at the edge). A point is searched by bisection on the
/// grid (a higher f decodes at least as well, up to the switch between mother codes) and a point stops at its first
/// failing frame. Seeded (frames from seed 5000 + frame, errors exactly round(q n) at random places), so a run gives
/// the same table on any machine with the same code family.
/// <code>
/// dotnet run -c Release --project tests/Qkd.Benchmarks -- ldpc-table [--bits 92160] [--frames 10] [--qber 0.01,0.02] [--iterations 60] [--parallel] [--blind]
/// </code>
/// <c>--blind</c> instead runs the protocol with the table in force (blind rounds included) and prints f per QBER.
/// Prints one line per point (f, frames decoded, mean iterations) and the table in C# to paste into LdpcCodeFamily.
/// Changing the table changes every plan: bump <c>DistillationProtocol.Version</c> with it.
/// </summary>
public static class LdpcEfficiencyTableTool
{
    public const string Command = "ldpc-table";

    private static readonly double[] TableQbers = [0.010, 0.015, 0.020, 0.025, 0.030, 0.035, 0.040, 0.050, 0.060, 0.070, 0.080, 0.100];

    public static int Run(string[] args)
    {
        int bits = LdpcCodeFamily.MaximumFrameBits, frames = 10, iterations = LdpcOptions.Default.MaxIterations;
        double[] qbers = TableQbers;
        bool parallel = false, blind = false;
        for (int i = 1; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--bits": bits = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--frames": frames = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--qber": qbers = args[++i].Split(',').Select(q => double.Parse(q, CultureInfo.InvariantCulture)).ToArray(); break;
                case "--parallel": parallel = true; break;
                case "--blind": blind = true; break;
                case "--iterations": iterations = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                default:
                    Console.Error.WriteLine($"ldpc-table: unknown argument '{args[i]}' (known: --bits N, --frames N, --qber q1,q2,..., --iterations N, --parallel, --blind).");
                    return 2;
            }
        }
        if (bits < 1 || bits > LdpcCodeFamily.MaximumFrameBits || frames < 1 || iterations < 1)
        {
            Console.Error.WriteLine($"ldpc-table: --bits must lie in 1..{LdpcCodeFamily.MaximumFrameBits}, --frames and --iterations be at least 1.");
            return 2;
        }
        if (blind) return RunWithBlindRounds(bits, frames, qbers, iterations, parallel);
        Console.WriteLine($"// LDPC decodable efficiency: {bits}-bit frames, {frames} seeded frames per point, {iterations} iterations");
        var baseOptions = LdpcOptions.Default with { MaxIterations = iterations };
        var rows = new List<string>();
        foreach (double qber in qbers)
        {
            var noisy = Enumerable.Range(0, frames).Select(f => Noisy(bits, qber, 5000 + (ulong)f)).ToArray();
            // Grid index g means f = 1.00 + 0.02 g; bisection for the smallest g whose frames all decode.
            int low = 0, high = 40;
            if (!AllDecode(noisy, qber, baseOptions, Grid(high), parallel, out _)) { Console.WriteLine($"// {qber:P1}: not even f = {Grid(high):F2} decodes every frame"); rows.Add(string.Create(CultureInfo.InvariantCulture, $"({qber:F3}, {Grid(high):F2})")); continue; }
            while (low < high)
            {
                int mid = (low + high) / 2;
                if (AllDecode(noisy, qber, baseOptions, Grid(mid), parallel, out _)) high = mid;
                else low = mid + 1;
            }
            AllDecode(noisy, qber, baseOptions, Grid(high), parallel, out double meanIterations);
            var plan = LdpcCodeFamily.Plan(bits, qber, baseOptions with { InitialEfficiency = Grid(high) });
            Console.WriteLine($"// {qber:P1}: f0 = {Grid(high):F2} (mother code {LdpcCodeFamily.Profiles[plan.Profile].Rate:F2}, p = {plan.Punctured}, s = {plan.Shortened}, mean {meanIterations:F1} iterations)");
            rows.Add(string.Create(CultureInfo.InvariantCulture, $"({qber:F3}, {Grid(high):F2})"));
        }
        Console.WriteLine("[");
        Console.WriteLine("    " + string.Join(", ", rows) + ",");
        Console.WriteLine("]");
        return 0;
    }

    /// <summary>
    /// <c>--blind</c>: the protocol as it runs (first syndrome from the table, blind rounds until every frame decodes)
    /// on the same seeded frames: f = leaked / (n h2(q)) over all frames with blind rounds, f of the first syndrome,
    /// frames that needed a blind round, and wall-clock Mbit/s (whatever else the machine is doing).
    /// </summary>
    private static int RunWithBlindRounds(int bits, int frames, double[] qbers, int iterations, bool parallel)
    {
        Console.WriteLine($"// LDPC with blind rounds: {bits}-bit frames, {frames} seeded frames per QBER, {iterations} iterations, table f0");
        var options = LdpcOptions.Default with { MaxIterations = iterations };
        foreach (double qber in qbers)
        {
            long leaked = 0, firstLeak = 0, rounds = 0, failed = 0;
            double shannon = 0;
            var watch = System.Diagnostics.Stopwatch.StartNew();
            for (int f = 0; f < frames; f++)
            {
                var (alice, bob) = Noisy(bits, qber, 5000 + (ulong)f);
                var result = LdpcReconciliation.RunLocal(alice, bob, qber, options, new Xoshiro256StarStar(1 + (ulong)f), parallel);
                if (!alice.ContentEquals(bob)) { Console.Error.WriteLine($"ldpc-table: frame {f} at {qber:P1} left errors."); return 1; }
                leaked += result.LeakedBits;
                firstLeak += result.LeakedBits - result.RevealedBits;
                rounds += result.Rounds;
                failed += result.FramesFailedFirstAttempt;
                shannon += bits * BinaryEntropy.H2(Math.Round(qber * bits) / bits);
            }
            double seconds = watch.Elapsed.TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"// {qber:P1}: f {leaked / shannon:F3} with blind rounds, first syndrome {firstLeak / shannon:F3}, {failed}/{frames} frames needed a blind round, {(double)rounds / frames:F2} rounds per frame, {(double)bits * frames / seconds / 1e6:F2} Mbit/s wall clock"));
        }
        return 0;
    }

    private static double Grid(int g) => Math.Round(1.00 + 0.02 * g, 2);

    /// <summary>Whether every frame decodes at the first attempt with a first syndrome sized at f0 = <paramref name="f0"/>.</summary>
    private static bool AllDecode((PackedBits Alice, PackedBits Bob)[] noisy, double qber, LdpcOptions baseOptions, double f0, bool parallel, out double meanIterations)
    {
        var options = baseOptions with { InitialEfficiency = f0 };
        var plan = LdpcCodeFamily.Plan((int)noisy[0].Alice.Length, qber, options);
        int failed = 0;
        long iterations = 0;
        void Try(int f)
        {
            if (Volatile.Read(ref failed) > 0) return;
            var responder = new LdpcResponder(noisy[f].Alice, plan, new Xoshiro256StarStar(1 + (ulong)f));
            var corrector = new LdpcCorrector(noisy[f].Bob.Clone(), plan, qber);
            corrector.SetSyndrome(responder.Syndrome);
            var decoder = LdpcDecoderPool.Rent(plan.Code);
            try
            {
                if (!corrector.TryDecode(decoder, options.MaxIterations)) Interlocked.Increment(ref failed);
                Interlocked.Add(ref iterations, corrector.Iterations);
            }
            finally
            {
                LdpcDecoderPool.Return(decoder);
            }
        }
        if (parallel) Parallel.For(0, noisy.Length, Try);
        else for (int f = 0; f < noisy.Length; f++) Try(f);
        meanIterations = (double)iterations / noisy.Length;
        return failed == 0;
    }

    private static (PackedBits Alice, PackedBits Bob) Noisy(int bits, double qber, ulong seed)
    {
        var random = new Xoshiro256StarStar(seed);
        var words = new ulong[PackedBits.WordCount(bits)];
        for (int i = 0; i < words.Length; i++) words[i] = random.NextUInt64();
        var alice = PackedBits.FromWords(words, bits);
        var bob = alice.Clone();
        int errors = (int)Math.Round(qber * bits);
        var flipped = new HashSet<int>();
        while (flipped.Count < errors) flipped.Add((int)(random.NextUInt64() % (ulong)bits));
        foreach (int i in flipped) bob.Flip(i);
        return (alice, bob);
    }
}
