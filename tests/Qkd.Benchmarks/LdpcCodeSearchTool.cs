using System.Globalization;
using Qkd.Core.Bits;
using Qkd.Core.Random;
using Qkd.Distillation.ErrorCorrection;
using Qkd.Distillation.ErrorCorrection.Ldpc;

namespace Qkd.Benchmarks;

/// <summary>
/// Exploration helper for designing mother codes: decodes seeded frames on one candidate profile used at its own
/// rate (no puncturing, no shortening: every variable carries a key bit, the syndrome leaks all checks) and prints,
/// per QBER, how many frames decode and the efficiency f = checks / (n h2(q)).
/// <code>
/// dotnet run -c Release --project tests/Qkd.Benchmarks -- ldpc-code --profile 0.9:40x400:20*24,8*40,3*270,2*66 --z 256 --qber 0.01,0.012 [--frames 10] [--iterations 60] [--chain]
/// </code>
/// </summary>
public static class LdpcCodeSearchTool
{
    public const string Command = "ldpc-code";

    public static int Run(string[] args)
    {
        string? spec = null;
        int z = 256, frames = 10, iterations = LdpcOptions.Default.MaxIterations;
        double[] qbers = [0.01];
        bool chain = false;
        ulong seed = 0x4C44_5043_5144_0001UL;
        for (int i = 1; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--profile": spec = args[++i]; break;
                case "--z": z = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--frames": frames = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--iterations": iterations = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--seed": seed = ulong.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--chain": chain = true; break;
                case "--qber": qbers = args[++i].Split(',').Select(q => double.Parse(q, CultureInfo.InvariantCulture)).ToArray(); break;
                default: Console.Error.WriteLine($"ldpc-code: unknown argument '{args[i]}'."); return 2;
            }
        }
        if (spec is null) { Console.Error.WriteLine("ldpc-code: --profile rate:ROWSxCOLS:deg*count,... is required."); return 2; }
        var profile = Parse(spec, chain);
        var code = QuasiCyclicCodeBuilder.Build(profile, z, seed);
        Console.WriteLine($"// {spec} z={z}: n={code.Length}, checks={code.Checks}, edges={code.BaseEdges * z}, max row weight {code.MaxRowWeight}, untainted {code.PunctureOrder.Length}");
        var options = LdpcOptions.Default with { MaxIterations = iterations };
        foreach (double q in qbers)
        {
            var plan = LdpcFramePlan.Create(code, 0, code.Length, 0, q, options);
            int ok = 0; long its = 0;
            Parallel.For(0, frames, new ParallelOptions { MaxDegreeOfParallelism = 2 }, f =>
            {
                var (alice, bob) = Noisy(code.Length, q, 9000 + (ulong)f);
                var responder = new LdpcResponder(alice, plan, new Xoshiro256StarStar(1 + (ulong)f));
                var corrector = new LdpcCorrector(bob, plan, q);
                corrector.SetSyndrome(responder.Syndrome);
                var decoder = LdpcDecoderPool.Rent(code);
                try
                {
                    if (corrector.TryDecode(decoder, iterations)) Interlocked.Increment(ref ok);
                    Interlocked.Add(ref its, corrector.Iterations);
                }
                finally { LdpcDecoderPool.Return(decoder); }
            });
            double f0 = code.Checks / (code.Length * BinaryEntropy.H2(q));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"q={q:F4} f={f0:F3} decoded {ok}/{frames} mean iterations {(double)its / frames:F1}"));
        }
        return 0;
    }

    internal static LdpcCodeProfile Parse(string spec, bool chain)
    {
        var parts = spec.Split(':');
        double rate = double.Parse(parts[0], CultureInfo.InvariantCulture);
        var size = parts[1].Split('x');
        var degrees = parts[2].Split(',').Select(d => d.Split('*')).Select(d => (int.Parse(d[0], CultureInfo.InvariantCulture), int.Parse(d[1], CultureInfo.InvariantCulture))).ToList();
        return new LdpcCodeProfile(rate, int.Parse(size[0], CultureInfo.InvariantCulture), int.Parse(size[1], CultureInfo.InvariantCulture), degrees) { Chain = chain };
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
