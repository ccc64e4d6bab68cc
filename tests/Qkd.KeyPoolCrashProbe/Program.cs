using Qkd.KeyPoolCrashProbe;
using Qkd.Kme.Pool;

// run <dir> <operator-key-hex> <seed>: the crash workload, until killed.
// bench <dir> [full|normal]: a quick key-store benchmark (figures on stdout).
switch (args.FirstOrDefault())
{
    case "run" when args.Length == 4:
        // The test holds our stdin open; if it dies without killing us, stdin closes and we stop instead of running on.
        new Thread(() => { Console.In.ReadToEnd(); Environment.Exit(3); }) { IsBackground = true }.Start();
        using (var key = OperatorKey.FromHex(args[2]))
            CrashWorkload.Run(args[1], key, int.Parse(args[3]), line => { Console.WriteLine(line); Console.Out.Flush(); });
        return 0;
    case "bench" when args.Length >= 2:
        KeyPoolBench.Run(args[1], args.Length > 2 && args[2] == "normal" ? KeyPoolDurability.Normal : KeyPoolDurability.Full);
        return 0;
    default:
        Console.Error.WriteLine("usage: Qkd.KeyPoolCrashProbe run <dir> <operator-key-hex> <seed> | bench <dir> [full|normal]");
        return 2;
}
