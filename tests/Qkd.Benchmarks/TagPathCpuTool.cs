using System.Globalization;
using System.Runtime.InteropServices;

namespace Qkd.Benchmarks;

/// <summary>
/// The tag path's kernels (<see cref="ClockRecoveryBenchmarks"/>, <see cref="ReplayBenchmarks"/>) timed by the CPU time
/// of the benchmark thread rather than the wall clock, each baseline and its rewrite taking turns, round after round:
/// on a shared machine with a load of 30-50 on 2 cores BenchmarkDotNet's wall-clock figures swing 2-5x between
/// iterations, while the thread's own CPU time moves little. Prints ns per tag (median and best of the rounds) and the
/// ratio of the medians against the baseline. Linux only (clock_gettime of the thread's CPU clock).
/// <code>
/// dotnet run -c Release --project tests/Qkd.Benchmarks -- tag-path-cpu [--rounds 7]
/// </code>
/// </summary>
public static class TagPathCpuTool
{
    public const string Command = "tag-path-cpu";

    public static int Run(string[] args)
    {
        int rounds = args.Length > 2 && args[1] == "--rounds" ? int.Parse(args[2], CultureInfo.InvariantCulture) : 7;
        foreach (int divider in args.Contains("--decode-only") ? [] : new[] { 1024, 65536 })
        {
            var recovery = new ClockRecoveryBenchmarks { SyncDivider = divider };
            recovery.Setup();
            long tags = 1 << 21;
            Compare($"clock recovery, divider {divider}", rounds, tags, ("RecoverBaseline", () => recovery.RecoverBaseline()), ("Recover", () => recovery.Recover()));
            Compare($"clock recovery + decode, divider {divider}", rounds, tags, ("RecoverDecodeBaseline", () => recovery.RecoverDecodeBaseline()), ("RecoverDecode", () => recovery.RecoverDecode()));
            Compare($"clock recovery against main 5edd6ce, divider {divider}", rounds, tags, ("RecoverPreTagPath", () => recovery.RecoverPreTagPath()), ("RecoverTagPath", () => recovery.RecoverTagPath()));
            Compare($"clock recovery + decode as the front end runs them, against main 5edd6ce, divider {divider}", rounds, tags,
                ("RecoverDecodePreTagPath", () => recovery.RecoverDecodePreTagPath()), ("RecoverDecodeTagPath", () => recovery.RecoverDecodeTagPath()));
        }
        var replay = new ReplayBenchmarks();
        replay.Setup();
        {
            // The record decoder alone, on the payload of one chunk of the replay benchmark's stream (8192 tags).
            var tags = new Qkd.Core.TimeTags.TimeTag[8192];
            var random = new Random(1);
            long t = 0;
            for (int i = 0; i < tags.Length; i++)
                tags[i] = new Qkd.Core.TimeTags.TimeTag(t += random.Next(1, 200_000), (ushort)random.Next(0, 5));
            var payload = new byte[tags.Length * 19];
            int length = 0;
            long previous = 0;
            foreach (var tag in tags)
            {
                length = Acquisition.Replay.TimeTagRecordCodec.Encode(payload, length, tag, tag.TimePs, previous);
                previous = tag.TimePs;
            }
            var output = new Qkd.Core.TimeTags.TimeTag[tags.Length];
            Compare("record decoding (one chunk of 8192 tags, 64 times)", rounds, 64 * tags.Length,
                ("ReferenceDecodeChunk", () => { long s = 0; for (int k = 0; k < 64; k++) s += Reference.ReferenceTimeTagFileReader.ReferenceDecodeChunk(payload.AsSpan(0, length), 0, 1, output) ? 1 : 0; return s; }),
                ("DecodeChunk", () => { long s = 0; for (int k = 0; k < 64; k++) s += Acquisition.Replay.TimeTagRecordCodec.DecodeChunk(payload.AsSpan(0, length), 0, 1, output, out _) ? 1 : 0; return s; }));
            Compare("record decoding against main 5edd6ce (one chunk of 8192 tags, 64 times)", rounds, 64 * tags.Length,
                ("PreTagPathDecodeChunk", () => { long s = 0; for (int k = 0; k < 64; k++) s += Reference.PreTagPathRecordCodec.DecodeChunk(payload.AsSpan(0, length), 0, 1, output, out _) ? 1 : 0; return s; }),
                ("DecodeChunk", () => { long s = 0; for (int k = 0; k < 64; k++) s += Acquisition.Replay.TimeTagRecordCodec.DecodeChunk(payload.AsSpan(0, length), 0, 1, output, out _) ? 1 : 0; return s; }));
        }
        Compare("time-tag file read (from memory)", rounds, 1 << 20, ("ReadBaseline", () => replay.ReadBaseline()), ("Read", () => replay.Read()));
        return 0;
    }

    private static void Compare(string title, int rounds, long tags, params (string Name, Func<long> Run)[] methods)
    {
        var times = methods.Select(_ => new List<double>()).ToArray();
        foreach (var (_, run) in methods) run(); // warm up (tier-1 code)
        for (int r = 0; r < rounds; r++)
            for (int m = 0; m < methods.Length; m++)
            {
                long start = ThreadCpuNs();
                methods[m].Run();
                times[m].Add((ThreadCpuNs() - start) / (double)tags);
            }
        double baseline = Median(times[0]);
        Console.WriteLine(title);
        for (int m = 0; m < methods.Length; m++)
        {
            double median = Median(times[m]);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {methods[m].Name,-24} median {median,7:F2} ns/tag ({1e3 / median,6:F1} M tags/s)  best {times[m].Min(),7:F2} ns/tag  ratio {median / baseline:F2}"));
        }
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

    private const int ThreadCpuClock = 3; // CLOCK_THREAD_CPUTIME_ID

    private static long ThreadCpuNs()
    {
        ClockGetTime(ThreadCpuClock, out var t);
        return t.Seconds * 1_000_000_000 + t.Nanoseconds;
    }
}
