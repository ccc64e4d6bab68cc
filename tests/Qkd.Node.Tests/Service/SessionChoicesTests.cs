using System.Reflection;
using Microsoft.Extensions.Logging;
using Qkd.Core.Bits;
using Qkd.Core.Channel;
using Qkd.Core.Keys;
using Qkd.Core.Symbols;
using Qkd.Hardware.Modulator;
using Qkd.Node.Service;
using Qkd.Node.Link;
using Qkd.Distillation;
using Qkd.ClassicalChannel;

namespace Qkd.Node.Tests.Service;

/// <summary>
/// Where a node session's secret choices come from: the OS CSPRNG by default (two deployments never share a key), a
/// seed only when the config names it insecureFixedSeed, and then with a warning on every session.
/// </summary>
public sealed class SessionChoicesTests
{
    /// <summary>A modulator that keeps the first 256 symbols of the emission it is asked for and does nothing else.</summary>
    public class CapturingModulator : DispatchProxy
    {
        public byte[]? FirstSymbols { get; private set; }

        /// <summary>Completes when the emission was asked for.</summary>
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override object? Invoke(MethodInfo? method, object?[]? args)
        {
            if (method!.Name == nameof(ILaserModulator.StartEmission) && args![0] is ISymbolSource symbols)
            {
                FirstSymbols = new byte[128];
                symbols.FillPacked(0, FirstSymbols);
                Started.TrySetResult();
            }
            if (method.ReturnType == typeof(Task)) return Task.CompletedTask;
            return method.ReturnType.IsValueType && method.ReturnType != typeof(void) ? Activator.CreateInstance(method.ReturnType) : null;
        }
    }

    private sealed class ListLogger : ILogger
    {
        public readonly List<(LogLevel Level, string Message)> Entries = [];
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Entries) Entries.Add((logLevel, formatter(state, exception)));
        }
    }

    private sealed class NullSink : IKeySink
    {
        public void Accept(long blockId, PackedBits key) { }
    }

    private static NodeConfig Config(ulong? insecureFixedSeed) => new()
    {
        Role = "alice",
        LinkId = "test-link",
        ClassicalChannel = new ClassicalChannelConfig("127.0.0.1:1", "unused"),
        KeyPool = new KeyPoolConfig("unused.db", OperatorKeyFile: "unused"),
        Emulator = new EmulatorConfig("127.0.0.1:1", DistanceKm: 25, Seed: 5),
        DurationSeconds = 0.01,
        BlockSizeBits = 1 << 21,
        InsecureFixedSeed = insecureFixedSeed,
    };

    /// <summary>Starts Alice's session (which hands its symbols to the modulator first), then stops it: its first symbols and its log.</summary>
    private static async Task<(byte[] Symbols, ListLogger Log)> FirstSymbols(NodeConfig config, long session)
    {
        var modulator = DispatchProxy.Create<ILaserModulator, CapturingModulator>();
        var logger = new ListLogger();
        var (aliceChannel, bobChannel) = InMemoryClassicalChannel.CreatePair();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var run = new AliceEnd(config, modulator, new NullSink(), logger).RunSessionAsync(aliceChannel, session, stop.Token);
        // Bob's part of the opening: Alice emits only once he has accepted her announcement and his tagger streams.
        var bob = new BobDistiller(bobChannel, LinkSettings.Default.Distillation(), new NullSink());
        var emission = await bob.ReceiveEmissionAnnouncementAsync(stop.Token);
        await bob.ConfirmReceiverReadyAsync(emission, EmissionAgreement.Window(emission), stop.Token);
        // The emission starts right after her announcement is answered.
        var aliceDone = ((CapturingModulator)(object)modulator).Started.Task;
        await aliceDone.WaitAsync(TimeSpan.FromMinutes(2), stop.Token);
        byte[] symbols = ((CapturingModulator)(object)modulator).FirstSymbols ?? throw new InvalidOperationException("No emission started.");
        stop.Cancel();
        bobChannel.Complete();
        try { await run; }
        catch (Exception) when (stop.IsCancellationRequested) { /* the session was stopped on purpose: how it ends is not the point */ }
        return (symbols, logger);
    }

    [Fact]
    public async Task Without_insecureFixedSeed_two_sessions_first_symbols_differ_even_under_the_same_session_number()
    {
        var config = Config(null);
        var first = await FirstSymbols(config, 1);
        var otherDeployment = await FirstSymbols(config, 1);
        var second = await FirstSymbols(config, 2);
        Assert.NotEqual(first.Symbols, otherDeployment.Symbols);
        Assert.NotEqual(first.Symbols, second.Symbols);
        Assert.DoesNotContain(first.Log.Entries, e => e.Level >= LogLevel.Warning);
    }

    [Fact]
    public async Task With_insecureFixedSeed_sessions_are_reproducible_and_every_one_is_warned_about()
    {
        var config = Config(7);
        var first = await FirstSymbols(config, 1);
        var again = await FirstSymbols(config, 1);
        var second = await FirstSymbols(config, 2);
        Assert.Equal(first.Symbols, again.Symbols);
        Assert.NotEqual(first.Symbols, second.Symbols);
        foreach (var run in new[] { first, again, second })
            Assert.Contains(run.Log.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("insecureFixedSeed") && e.Message.Contains("NOT secret"));
    }

    [Fact]
    public void The_config_reads_insecureFixedSeed_and_without_it_seeds_no_choice()
    {
        string dir = Directory.CreateTempSubdirectory("qkd-node-config").FullName;
        string path = Path.Combine(dir, "node.json");
        string Json(string extra) => $$"""
            {
              "role": "alice",
              "linkId": "config-test",
              {{extra}}
              "keyPool": { "database": "keys.db", "operatorKeyFile": "operator.key" },
              "classicalChannel": { "endpoint": "127.0.0.1:7001", "preSharedSecretFile": "pre-shared.secret" },
              "emulator": { "fibre": "127.0.0.1:7002", "seed": 9 }
            }
            """;
        File.WriteAllText(path, Json("\"insecureFixedSeed\": 7,"));
        var seeded = NodeConfig.Load(path);
        Assert.Equal(7UL, seeded.InsecureFixedSeed);
        Assert.NotNull(seeded.SessionInsecureSeed(1));
        Assert.NotEqual(seeded.SessionInsecureSeed(1), seeded.SessionInsecureSeed(2));

        File.WriteAllText(path, Json(""));
        var secure = NodeConfig.Load(path);
        Assert.Null(secure.InsecureFixedSeed);
        Assert.Null(secure.SessionInsecureSeed(1));
        Assert.Equal(9UL, secure.Emulator.Seed);
    }

    [Fact]
    public void Node_init_writes_configs_without_an_insecure_seed()
    {
        string dir = Directory.CreateTempSubdirectory("qkd-node-init").FullName;
        var (alice, bob) = NodeSetup.Write(dir, 21_000, durationSeconds: 0.4, sessions: 1, blockSizeBits: 1 << 20);
        foreach (string path in new[] { alice, bob })
        {
            Assert.DoesNotContain("insecure", File.ReadAllText(path), StringComparison.OrdinalIgnoreCase);
            Assert.Null(NodeConfig.Load(path).InsecureFixedSeed);
        }
    }
}
