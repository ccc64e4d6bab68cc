using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Qkd.Kme.Delivery;
using Qkd.Kme.Pool;
using Qkd.Node.Devices;
using Qkd.Node.Service;

namespace Qkd.Hil;

/// <summary>
/// Two nodes, each on its own devices, deliver an ETSI GS QKD 014 key pair: the service path an integrator deploys.
/// Targets: the emulated link bench (`qkd emulate --link-bench`: devices on pseudo-terminals, always), and a real bench
/// when QKD_HIL_LINK_BENCH names a folder in the link bench format (alice-bench.json, bob-bench.json,
/// link-settings.json, receiver.json; see hil/README.md).
/// </summary>
[Collection(TwoNodeLinks.Name)]
public sealed class TwoNodeLinkTests
{
    public const string HardwareVariable = "QKD_HIL_LINK_BENCH";

    [Fact(Timeout = 900_000)] // 1 MHz of real-time light over ptys: minutes on a loaded 2-core machine, 45 s idle
    public async Task Two_nodes_on_the_emulated_link_bench_deliver_a_matching_pair()
    {
        if (!OperatingSystem.IsLinux()) Assert.Skip("The emulated link bench uses Linux pseudo-terminals.");
        string folder = Directory.CreateTempSubdirectory("qkd-hil-link-bench").FullName;
        using var bench = new EmulatedLinkBench(Emulation.LinkProfile.Default.WithDistance(EmulatedLinkBench.DefaultDistanceKm),
            EmulatedLinkBench.SettingsFor(EmulatedLinkBench.DefaultPulseRateHz), new Emulation.TimeTagging.EmulatedTimeTaggerOptions(), seed: 11);
        bench.WriteTo(folder);
        await PairOverBenchAsync(folder);
    }

    [Fact(Timeout = 900_000)] // 1 MHz of real-time light over ptys: minutes on a loaded 2-core machine, 45 s idle
    public async Task Two_nodes_with_an_active_receiver_on_the_emulated_link_bench_deliver_a_matching_pair()
    {
        if (!OperatingSystem.IsLinux()) Assert.Skip("The emulated link bench uses Linux pseudo-terminals.");
        string folder = Directory.CreateTempSubdirectory("qkd-hil-active-bench").FullName;
        var settings = EmulatedLinkBench.SettingsFor(EmulatedLinkBench.DefaultPulseRateHz);
        var (profile, tagger) = EmulatedLinkBench.WithActiveReceiver(Emulation.LinkProfile.Default.WithDistance(EmulatedLinkBench.DefaultDistanceKm), settings,
            new Emulation.TimeTagging.EmulatedTimeTaggerOptions { DetectorDelaysPs = [1_234, 2_345, 3_456, 4_567] });
        using var bench = new EmulatedLinkBench(profile, settings, tagger, seed: 12);
        bench.WriteTo(folder);
        await PairOverBenchAsync(folder);
        // The light was measured in the bases Bob's node streamed to his detector.
        Assert.True(bench.Devices.Detector.LastBasisPattern!.SymbolsReceived > 0);
    }

    [Fact(Timeout = 900_000)]
    public async Task Two_nodes_on_a_hardware_link_bench_deliver_a_matching_pair()
    {
        string? folder = Environment.GetEnvironmentVariable(HardwareVariable);
        if (string.IsNullOrEmpty(folder))
            Assert.Skip($"No hardware link bench: set {HardwareVariable} to a folder with alice-bench.json, bob-bench.json, link-settings.json and receiver.json (hil/README.md).");
        await PairOverBenchAsync(folder);
    }

    /// <summary>Keeps the nodes' log lines (information and above) to report them when a pair does not come.</summary>
    private sealed class LogTail : ILoggerProvider
    {
        public System.Collections.Concurrent.ConcurrentQueue<string> Lines { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose() { }

        private sealed class Logger(LogTail tail, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                tail.Lines.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} {category}: {formatter(state, exception)}");
        }
    }

    /// <summary>A node as `qkd alice`/`qkd bob` host it (its log kept in <paramref name="log"/>, not on the console).</summary>
    private static IHost NodeHost(string configPath, LogTail log)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(log);
        builder.Services.AddSingleton(NodeConfig.Load(configPath));
        builder.Services.AddHostedService<QkdNodeService>();
        return builder.Build();
    }

    private static async Task PairOverBenchAsync(string benchFolder)
    {
        // Give up a little before the test's own timeout, so that the failure carries the nodes' last log lines (the
        // runner's timeout abandons the test without them).
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(840));
        var ct = deadline.Token;
        string deployment = Directory.CreateTempSubdirectory("qkd-hil-two-nodes").FullName;
        int basePort = Qkd.Cli.Tests.FreePorts.Block();
        var (alicePath, bobPath) = NodeSetup.Write(deployment, basePort, NodeSetup.BenchSessionSeconds, sessions: 0, NodeSetup.BenchBlockSizeBits,
            benchDirectory: benchFolder);
        var log = new LogTail();
        using var bobHost = NodeHost(bobPath, log);
        using var aliceHost = NodeHost(alicePath, log);
        // StartAsync returns once each node is up (pool, pad, key delivery, KME link, devices open).
        await bobHost.StartAsync(ct);
        await aliceHost.StartAsync(ct);
        var alice = aliceHost.Services.GetServices<IHostedService>().OfType<QkdNodeService>().Single();
        var bob = bobHost.Services.GetServices<IHostedService>().OfType<QkdNodeService>().Single();
        try
        {
            using var ca = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(deployment, "ca.pem"));
            using var masterCertificate = X509CertificateLoader.LoadPkcs12FromFile(Path.Combine(deployment, NodeSetup.MasterSae + ".pfx"), null);
            using var slaveCertificate = X509CertificateLoader.LoadPkcs12FromFile(Path.Combine(deployment, NodeSetup.SlaveSae + ".pfx"), null);
            using var master = new EtsiKeyDeliveryClient(new Uri($"https://127.0.0.1:{basePort + 3}"), masterCertificate, ca);
            using var slave = new EtsiKeyDeliveryClient(new Uri($"https://127.0.0.1:{basePort + 4}"), slaveCertificate, ca);
            DeliveredKey? issued = null;
            // Until the first block is distilled (tens of seconds on the emulated bench) Alice's KME answers 503 or
            // has no server yet; a node that failed is reported with its error.
            while (issued is null)
            {
                foreach (var node in new[] { alice, bob })
                    if (node.Failure is { } failure) throw new InvalidOperationException($"a node failed: {failure.Message}", failure);
                try
                {
                    issued = (await master.GetKeysAsync(NodeSetup.SlaveSae, 1, ct))[0];
                }
                catch (Exception e) when (e is KeyDeliveryException or HttpRequestException)
                {
                    await Task.Delay(1_000, ct);
                }
            }
            var redeemed = await slave.GetKeysWithIdsAsync(NodeSetup.MasterSae, [issued.Id], ct);
            Assert.Equal(issued.Key, Assert.Single(redeemed).Key);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The test's time ran out: say what the nodes were doing.
            throw new TimeoutException("no matching pair before the test's timeout; the nodes' last log lines:\n" + string.Join("\n", log.Lines.TakeLast(60)));
        }
        finally
        {
            await aliceHost.StopAsync(CancellationToken.None);
            await bobHost.StopAsync(CancellationToken.None);
        }
    }
}
