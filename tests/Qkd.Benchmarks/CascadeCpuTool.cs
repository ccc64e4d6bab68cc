using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Qkd.Core.Bits;
using Qkd.Core.Random;
using Qkd.Distillation.ErrorCorrection;

namespace Qkd.Benchmarks;

/// <summary>
/// Cascade as the replay runs it: one block of 8 frames of 1,050,000 bits at QBER 1.7%, corrected together
/// (<see cref="MultiplexedCascade"/>, both ends in process, fresh seeds per block), timed by the benchmark thread's
/// CPU time and by the process's (which adds the GC's background work), round after round. On a machine shared by a
/// load of 30-70 on 2 cores the wall clock swings several times between runs, the thread's CPU time much less, so
/// compare builds by running this tool from each in turns. Prints ns per frame bit (median and best), Mbit/s, and a
/// fingerprint of the leakage, rounds and corrected keys that must not change when only the speed does.
/// <code>
/// dotnet run -c Release --project tests/Qkd.Benchmarks -- cascade-cpu [--rounds 7]
/// </code>
/// </summary>
public static class CascadeCpuTool
{
    public const string Command = "cascade-cpu";
    private const int Frames = 8, FrameBits = 1_050_000;
    private const double Qber = 0.017;

    public static int Run(string[] args)
    {
        int rounds = args.Length > 2 && args[1] == "--rounds" ? int.Parse(args[2], CultureInfo.InvariantCulture) : 7;
        var alice = new PackedBits[Frames];
        var bob = new PackedBits[Frames];
        for (int f = 0; f < Frames; f++) (alice[f], bob[f]) = NoisyPair(FrameBits, Qber, 100 + (ulong)f);

        RunBlock(alice, bob, 0); // warm up
        var thread = new List<double>();
        var process = new List<double>();
        long fingerprint = 0;
        for (int r = 0; r < rounds; r++)
        {
            long t0 = ThreadCpuNs();
            var p0 = Process.GetCurrentProcess().TotalProcessorTime;
            fingerprint = RunBlock(alice, bob, 1 + (ulong)r * 16);
            long t1 = ThreadCpuNs();
            var p1 = Process.GetCurrentProcess().TotalProcessorTime;
            thread.Add((t1 - t0) / (double)(Frames * FrameBits));
            process.Add((p1 - p0).TotalNanoseconds / (Frames * FrameBits));
        }
        double median = Median(thread);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"cascade block {Frames} x {FrameBits} bits, QBER {Qber:P1}: thread CPU median {median:F2} ns/bit ({1e3 / median:F1} Mbit/s), best {thread.Min():F2}; process CPU median {Median(process):F2} ns/bit; last fingerprint {fingerprint:X16}"));
        return 0;
    }

    /// <summary>Corrects copies of Bob's frames; returns a hash of leakage, rounds and the corrected bits (checked equal to Alice's).</summary>
    private static long RunBlock(PackedBits[] alice, PackedBits[] bob, ulong seedBase)
    {
        var correctors = new CascadeCorrector[Frames];
        var responders = new CascadeResponder[Frames];
        var copies = new PackedBits[Frames];
        for (int f = 0; f < Frames; f++)
        {
            copies[f] = bob[f].Clone();
            var bobSchedule = CascadeSchedule.Create(FrameBits, Qber, seedBase + (ulong)f, CascadeOptions.Default);
            var aliceSchedule = CascadeSchedule.Create(FrameBits, Qber, seedBase + (ulong)f, CascadeOptions.Default);
            correctors[f] = new CascadeCorrector(copies[f], bobSchedule);
            responders[f] = new CascadeResponder(alice[f], aliceSchedule);
        }
        var result = new MultiplexedCascade(correctors).RunAsync(new LocalMultiplexedParityOracle(responders)).AsTask().GetAwaiter().GetResult();
        long hash = result.Rounds;
        for (int f = 0; f < Frames; f++)
        {
            hash = hash * 1_000_003 + result.Frames[f].LeakedBits;
            hash = hash * 1_000_003 + alice[f].HammingDistance(copies[f]);
            correctors[f].Zeroise();
            responders[f].Zeroise();
        }
        return hash;
    }

    private static (PackedBits Alice, PackedBits Bob) NoisyPair(int length, double qber, ulong seed)
    {
        var random = new Xoshiro256StarStar(seed);
        var words = new ulong[PackedBits.WordCount(length)];
        for (int i = 0; i < words.Length; i++) words[i] = random.NextUInt64();
        var alice = PackedBits.FromWords(words, length);
        var bob = alice.Clone();
        for (int i = 0; i < length; i++)
            if (random.NextDouble() < qber) bob.Flip(i);
        return (alice, bob);
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);

    private static long ThreadCpuNs()
    {
        ClockGetTime(3, out var t); // CLOCK_THREAD_CPUTIME_ID
        return t.Seconds * 1_000_000_000 + t.Nanoseconds;
    }
}
