using Qkd.Hardware.Peripherals;
using System.Collections.Concurrent;
using System.Device.Gpio;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Qkd.Hardware.Gpio;
using Qkd.Node.Devices;
using Qkd.Node.Service;
using Qkd.Node.Tests.Support;

namespace Qkd.Node.Tests.Service;

/// <summary>
/// The interlock and the gate-enable line at node level, on the emulated link bench (devices on pseudo-terminals) with
/// Bob's GPIO lines on a simulated chip: gate-enable follows the session; opening the interlock mid-session stops it at
/// once (logged, counted as key generation blocked), no session runs while it is open, and closing it lets the next
/// session run to its end.
/// </summary>
public sealed class InterlockNodeTests
{
    private const int InterlockLine = 5, GateLine = 6;

    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        public ConcurrentQueue<string> Lines { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this);

        public void Dispose() { }

        private sealed class Logger(CapturingLoggerProvider provider) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                provider.Lines.Enqueue($"{logLevel}: {formatter(state, exception)}");
        }
    }

    private static IHost NodeHost(string configPath, CapturingLoggerProvider log, IPeripheralBusFactory? buses)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(log);
        builder.Services.AddSingleton(NodeConfig.Load(configPath));
        if (buses is not null) builder.Services.AddSingleton(buses);
        builder.Services.AddHostedService<QkdNodeService>();
        return builder.Build();
    }

    /// <summary>Waits (on the test's own timeout, checking every 50 ms) until <paramref name="condition"/> holds.</summary>
    private static async Task Until(Func<bool> condition, QkdNodeService[] nodes, CancellationToken ct)
    {
        while (!condition())
        {
            foreach (var node in nodes)
                if (node.Failure is { } failure) throw new InvalidOperationException($"a node failed: {failure.Message}", failure);
            await Task.Delay(50, ct);
        }
    }

    [Fact(Timeout = 400_000)]
    public async Task Opening_the_interlock_mid_session_stops_it_and_the_next_session_runs_once_it_closes()
    {
        if (!OperatingSystem.IsLinux()) Assert.Skip("The emulated link bench uses Linux pseudo-terminals.");
        var ct = TestContext.Current.CancellationToken;
        var buses = new SimulatedPeripheralBuses();
        var chip = buses.GpioChip(0);
        chip.Drive(InterlockLine, PinValue.Low); // closed: a normally-closed switch to ground

        string folder = Directory.CreateTempSubdirectory("qkd-interlock-bench").FullName;
        using var bench = new EmulatedLinkBench(Emulation.LinkProfile.Default.WithDistance(EmulatedLinkBench.DefaultDistanceKm),
            EmulatedLinkBench.SettingsFor(EmulatedLinkBench.DefaultPulseRateHz), new Emulation.TimeTagging.EmulatedTimeTaggerOptions(), seed: 15);
        bench.WriteTo(folder);
        var gpio = new GpioLinesConfig
        {
            Interlock = new InterlockLineConfig { Chip = 0, Line = InterlockLine, DebounceMs = 0 },
            GateEnable = new GateEnableLineConfig { Chip = 0, Line = GateLine },
        };
        File.WriteAllText(Path.Combine(folder, EmulatedLinkBench.BobFile), (bench.BobBench with { Gpio = gpio }).ToJson());
        string deployment = Directory.CreateTempSubdirectory("qkd-interlock-nodes").FullName;
        int basePort = Qkd.Cli.Tests.FreePorts.Block();
        // Short sessions (3 s of link time): the test needs sessions to start and end, not key.
        var (alicePath, bobPath) = NodeSetup.Write(deployment, basePort, 3, sessions: 0, NodeSetup.BenchBlockSizeBits, benchDirectory: folder);
        var bobLog = new CapturingLoggerProvider();
        using var bobHost = NodeHost(bobPath, bobLog, buses);
        using var aliceHost = NodeHost(alicePath, new CapturingLoggerProvider(), null);
        await bobHost.StartAsync(ct);
        await aliceHost.StartAsync(ct);
        var nodes = new[] { bobHost, aliceHost }.Select(h => h.Services.GetServices<IHostedService>().OfType<QkdNodeService>().Single()).ToArray();
        try
        {
            // Gate-enable follows the session: high while one runs.
            await Until(() => chip.PeekLevel(GateLine) == PinValue.High, nodes, ct);
            chip.Drive(InterlockLine, PinValue.High); // the lid opens mid-session
            await Until(() => bobLog.Lines.Any(l => l.Contains("key generation is blocked")), nodes, ct);
            Assert.Equal(PinValue.Low, chip.PeekLevel(GateLine));
            int endedBefore = bobLog.Lines.Count(l => l.Contains(" ended: "));

            chip.Drive(InterlockLine, PinValue.Low); // closed again: the next session runs to its end
            await Until(() => bobLog.Lines.Count(l => l.Contains(" ended: ")) > endedBefore, nodes, ct);
            Assert.Contains(bobLog.Lines, l => l.StartsWith("Warning") && l.Contains("Session stopped: key generation is blocked") && l.Contains("interlock"));
        }
        finally
        {
            await aliceHost.StopAsync(CancellationToken.None);
            await bobHost.StopAsync(CancellationToken.None);
        }
    }
}
