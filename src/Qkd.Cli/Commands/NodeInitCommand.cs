using System.CommandLine;
using Qkd.Node.Service;

namespace Qkd.Cli.Commands;

/// <summary>`qkd node init --dir demo`: writes a ready-to-run two-node emulated deployment (secrets, certificates, configs).</summary>
public static class NodeInitCommand
{
    public static Command Create()
    {
        var dir = new Option<DirectoryInfo>("--dir") { Description = "Folder to write into (must not hold a deployment already).", Required = true };
        var basePort = new Option<int>("--base-port") { Description = "First of five loopback ports (channel, KME link, fibre, Alice's and Bob's key delivery).", DefaultValueFactory = _ => 7100 };
        var duration = new Option<double>("--duration-s") { Description = "Link time per session, seconds.", DefaultValueFactory = _ => 1.0 };
        var sessions = new Option<int>("--sessions") { Description = "Sessions to run (0: until stopped).", DefaultValueFactory = _ => 1 };
        var bench = new Option<DirectoryInfo>("--bench")
        {
            Description = "A link bench folder (`qkd emulate --link-bench DIR`, or one written for real devices): the nodes run on its devices " +
                          "through their serial ports, with its link and receiver settings, instead of on in-process emulated devices.",
        };
        var blockSize = new Option<long?>("--block-size") { Description = "Sifted key bits per privacy-amplification block (default: 2^23; 2^19 with --bench)." };
        var init = new Command("init", "Write a two-node deployment: pre-shared secret, operator keys, demo CA and certificates, alice.json and bob.json.")
        {
            dir, basePort, duration, sessions, bench, blockSize,
        };
        init.SetAction(parse =>
        {
            TextWriter output = parse.InvocationConfiguration.Output, error = parse.InvocationConfiguration.Error;
            string folder = parse.GetValue(dir)!.FullName;
            int port = parse.GetValue(basePort);
            if (port is < 1024 or > 65530)
            {
                error.WriteLine($"error: --base-port {port} must lie in 1024..65530 (five ports from it are used).");
                return 1;
            }
            if (File.Exists(Path.Combine(folder, "alice.json")) || File.Exists(Path.Combine(folder, "bob.json")))
            {
                error.WriteLine($"error: {folder} already holds a deployment (alice.json/bob.json); nothing was changed.");
                return 1;
            }
            try
            {
                string? benchFolder = parse.GetValue(bench)?.FullName;
                // A bench on serial lines runs at about a MHz: small blocks and long sessions, so a session distils a block.
                long blockBits = parse.GetValue(blockSize) ?? (benchFolder is null ? 1L << 23 : NodeSetup.BenchBlockSizeBits);
                double seconds = parse.GetResult(duration) is { Implicit: false } || benchFolder is null ? parse.GetValue(duration) : NodeSetup.BenchSessionSeconds;
                var (alice, bob) = NodeSetup.Write(folder, port, seconds, parse.GetValue(sessions), blockBits, benchDirectory: benchFolder);
                output.WriteLine($"Wrote {alice} and {bob} (with secrets and certificates) to {folder}.");
                output.WriteLine($"Start: qkd bob --config {bob} & qkd alice --config {alice}");
                return 0;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
            {
                error.WriteLine($"error: {e.Message}");
                return 1;
            }
        });
        return new Command("node", "Node deployment helpers.") { init };
    }
}
