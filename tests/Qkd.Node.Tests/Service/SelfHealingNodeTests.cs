using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Qkd.Emulation.Firmware;
using Qkd.Emulation.Hosting;
using Qkd.Emulation.TimeTagging;
using Qkd.Kme.Delivery;
using Qkd.Kme.Pool;
using Qkd.Node.Devices;
using Qkd.Node.Link;
using Qkd.Node.Service;
using Qkd.Protocol.Transport;

namespace Qkd.Node.Tests.Service;

/// <summary>
/// A node heals by itself (the link bench defect): two nodes on emulated devices behind pseudo-terminals, Alice's
/// modulator firmware stops reading its port mid-emission (a test transport holds its reads), so her driver's stream
/// write times out. Alice's session ends with the failure logged naming the modulator and counted; Bob's blocking tag
/// read ends because the session's channel closed; the next session re-opens the modulator and delivers matching key
/// at both ends over ETSI GS QKD 014, and no key of the broken session is stored.
/// </summary>
public sealed class SelfHealingNodeTests
{
    /// <summary>The firmware's side of a port that stops reading once armed and past a byte count, until released.</summary>
    private sealed class StallingTransport(IFrameTransport inner, long stallAfterBytes) : IFrameTransport
    {
        private readonly ManualResetEventSlim _released = new(false);
        private long _bytesRead;

        /// <summary>Set once the reads stall: the host's writes then fill the port and time out.</summary>
        public TaskCompletionSource Stalled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Release() => _released.Set();

        public string Description => inner.Description;

        public FramingKind Framing => inner.Framing;

        public int MaxWriteLength => inner.MaxWriteLength;

        public void Write(ReadOnlySpan<byte> data) => inner.Write(data);

        public int Read(Span<byte> buffer)
        {
            if (Interlocked.Read(ref _bytesRead) >= stallAfterBytes && !_released.IsSet)
            {
                Stalled.TrySetResult();
                _released.Wait();
            }
            int n = inner.Read(buffer);
            Interlocked.Add(ref _bytesRead, n);
            return n;
        }

        public void Dispose()
        {
            _released.Set();
            inner.Dispose();
        }
    }

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

    private static IHost NodeHost(string configPath, CapturingLoggerProvider log)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(log);
        builder.Services.AddSingleton(NodeConfig.Load(configPath));
        builder.Services.AddHostedService<QkdNodeService>();
        return builder.Build();
    }

    /// <summary>Waits (within the test's own give-up, looking every 50 ms) until <paramref name="condition"/> holds.</summary>
    private static async Task Until(Func<bool> condition, QkdNodeService[] nodes, CancellationToken ct)
    {
        while (!condition())
        {
            foreach (var node in nodes)
                if (node.Failure is { } failure) throw new InvalidOperationException($"a node failed: {failure.Message}", failure);
            await Task.Delay(50, ct);
        }
    }

    // Run once (2026-12-08, 70 load average on 2 cores): the broken session ended as asserted (the audit log read "sessionAborted:
    // modulator MOD-EMU-0001 (/dev/pts/0): send stream data failed: no reply within 30000 ms" 31 s after the stall, and
    // the next session opened 1 s later), but no later session gave key: the emulated bench pairs the tagger's next
    // stream with the broken session's unfinished emission (EmulatedLinkDevices.SourceForStream continues a physics
    // session whose emission is the modulator's LastEmission even after it was stopped), so every later session got the
    // previous session's light and frame synchronisation failed (~60 000 detections each). Skipped until Qkd.Emulation
    // starts a new physics session when the running one's emission is no longer the modulator's CurrentEmission.
    [Fact(Timeout = 1_200_000, Skip = "The emulated bench replays the broken session's emission to the next tagger stream (EmulatedLinkDevices.SourceForStream); see the comment above")]
    public async Task A_modulator_that_stops_taking_symbols_mid_emission_breaks_one_session_and_the_next_delivers_key()
    {
        if (!OperatingSystem.IsLinux()) Assert.Skip("The emulated devices sit behind Linux pseudo-terminals.");
        var ct = TestContext.Current.CancellationToken;
        var profile = Emulation.LinkProfile.Default.WithDistance(EmulatedLinkBench.DefaultDistanceKm);
        var settings = EmulatedLinkBench.SettingsFor(EmulatedLinkBench.DefaultPulseRateHz);
        var taggerOptions = new EmulatedTimeTaggerOptions();

        // The bench as EmulatedLinkBench builds it, with the modulator's port behind the stalling transport: 1 MB into
        // the first emission (of 15 MB: 30 s at half a byte per pulse) its firmware stops reading.
        using var devices = new EmulatedLinkDevices(profile, taggerOptions with { SyncDivider = settings.PulsesPerSync, EndPulse = long.MaxValue }, seed: 21);
        var ports = new List<PseudoTerminal>();
        StallingTransport? stalling = null;
        try
        {
            foreach (FirmwareHost device in new FirmwareHost[] { devices.Modulator, devices.Detector, devices.Tagger })
            {
                var pty = PseudoTerminal.Open();
                ports.Add(pty);
                IFrameTransport transport = new StreamFrameTransport(pty.Master, $"{device.SerialNumber} pty master {pty.SlavePath}", ownsStream: false);
                if (device == devices.Modulator) transport = stalling = new StallingTransport(transport, stallAfterBytes: 1 << 20);
                device.Plug(transport);
            }
            string folder = Directory.CreateTempSubdirectory("qkd-heal-bench").FullName;
            File.WriteAllText(Path.Combine(folder, EmulatedLinkBench.SettingsFile), LinkSettingsJsonConverter.SectionJson(settings));
            File.WriteAllText(Path.Combine(folder, EmulatedLinkBench.ReceiverFile), ReceiverSettings.ForEmulated(profile, settings, taggerOptions).ToJson());
            // The bench's own timeouts (EmulatedSerialBench): the stalled write fails after 30 s, never a loaded machine's slow read.
            File.WriteAllText(Path.Combine(folder, EmulatedLinkBench.AliceFile), new DeviceBench
            {
                Description = "Alice's emulated modulator, stalled mid-emission by the test",
                Modulator = new DeviceAddress { SerialPort = ports[0].SlavePath },
                ReplyTimeoutMs = 5_000,
                WriteTimeoutMs = 30_000,
            }.ToJson());
            File.WriteAllText(Path.Combine(folder, EmulatedLinkBench.BobFile), new DeviceBench
            {
                Description = "Bob's emulated detector and tagger",
                Detector = new DeviceAddress { SerialPort = ports[1].SlavePath },
                Tagger = new DeviceAddress { SerialPort = ports[2].SlavePath },
                ReplyTimeoutMs = 5_000,
                WriteTimeoutMs = 30_000,
            }.ToJson());

            string deployment = Directory.CreateTempSubdirectory("qkd-heal-nodes").FullName;
            int basePort = Qkd.Cli.Tests.FreePorts.Block();
            var (alicePath, bobPath) = NodeSetup.Write(deployment, basePort, NodeSetup.BenchSessionSeconds, sessions: 0, NodeSetup.BenchBlockSizeBits, benchDirectory: folder);
            var aliceLog = new CapturingLoggerProvider();
            var bobLog = new CapturingLoggerProvider();
            using var aborted = new AbortCounter();
            using var bobHost = NodeHost(bobPath, bobLog);
            using var aliceHost = NodeHost(alicePath, aliceLog);
            await bobHost.StartAsync(ct);
            await aliceHost.StartAsync(ct);
            var nodes = new[] { aliceHost, bobHost }.Select(h => h.Services.GetServices<IHostedService>().OfType<QkdNodeService>().Single()).ToArray();
            try
            {
                await Until(() => stalling!.Stalled.Task.IsCompleted, nodes, ct);
                // Alice's session ends with the failure named and counted (no session of hers can end otherwise while the port is stalled).
                await Until(() => aliceLog.Lines.Any(l => l.Contains("failed mid-emission")), nodes, ct);
                string failure = aliceLog.Lines.First(l => l.Contains("failed mid-emission"));
                Assert.StartsWith("Error", failure);
                Assert.Contains(devices.Modulator.SerialNumber, failure);
                long broken = long.Parse(Regex.Match(failure, @"Session (\d+):").Groups[1].Value);
                await Until(() => aliceLog.Lines.Any(l => l.Contains("Session broken:") && l.Contains(devices.Modulator.SerialNumber)), nodes, ct);
                Assert.True(aborted.Count("alice", "device") >= 1, "Alice's aborted session was not counted with reason device");
                // Bob's read ended because the session's channel closed, not by the emission's end.
                await Until(() => bobLog.Lines.Any(l => l.Contains("Session broken:") && l.Contains("while Bob read tags")), nodes, ct);
                Assert.True(aborted.Count("bob", "channel_closed") >= 1, "Bob's aborted session was not counted with reason channel_closed");

                stalling!.Release(); // the port is read again: the next session re-opens the modulator
                await Until(() => bobLog.Lines.Any(l => l.Contains(": Key, QBER")), nodes, ct);

                using var ca = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(deployment, "ca.pem"));
                using var masterCertificate = X509CertificateLoader.LoadPkcs12FromFile(Path.Combine(deployment, NodeSetup.MasterSae + ".pfx"), null);
                using var slaveCertificate = X509CertificateLoader.LoadPkcs12FromFile(Path.Combine(deployment, NodeSetup.SlaveSae + ".pfx"), null);
                using var master = new EtsiKeyDeliveryClient(new Uri($"https://127.0.0.1:{basePort + 3}"), masterCertificate, ca);
                using var slave = new EtsiKeyDeliveryClient(new Uri($"https://127.0.0.1:{basePort + 4}"), slaveCertificate, ca);
                // The pool hands the block out once both ends hold it and the KME link is up: ask until Alice's KME has a key.
                DeliveredKey? issued = null;
                while (issued is null)
                {
                    try
                    {
                        issued = (await master.GetKeysAsync(NodeSetup.SlaveSae, 1, ct))[0];
                    }
                    catch (KeyDeliveryException)
                    {
                        await Until(() => true, nodes, ct);
                        await Task.Delay(500, ct);
                    }
                }
                var redeemed = await slave.GetKeysWithIdsAsync(NodeSetup.MasterSae, [issued.Id], ct);
                Assert.Equal(issued.Id, Assert.Single(redeemed).Id);
                Assert.Equal(issued.Key, redeemed[0].Key);

                // Nothing of the broken session reached either pool; the key came from a later one.
                foreach (var node in nodes)
                {
                    var stored = ((SqliteKeyPool)node.KeyPool!).StoredBlockIds();
                    Assert.NotEmpty(stored);
                    Assert.DoesNotContain(stored, id => SessionKeySink.SessionOf(id) == broken);
                    Assert.All(stored, id => Assert.True(SessionKeySink.SessionOf(id) > broken, $"block {id} is of session {SessionKeySink.SessionOf(id)}, not after the broken {broken}"));
                }
            }
            finally
            {
                stalling?.Release();
                await aliceHost.StopAsync(CancellationToken.None);
                await bobHost.StopAsync(CancellationToken.None);
            }
        }
        finally
        {
            stalling?.Release();
            foreach (var pty in ports) pty.Dispose();
        }
    }

    /// <summary>qkd.node.sessions.aborted as the nodes count it, by role and reason.</summary>
    private sealed class AbortCounter : IDisposable
    {
        private readonly System.Diagnostics.Metrics.MeterListener _listener = new();
        private readonly ConcurrentDictionary<(string Role, string Reason), long> _counts = new();

        public AbortCounter()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Name == "qkd.node.sessions.aborted") listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                string role = "", reason = "";
                foreach (var tag in tags)
                {
                    if (tag.Key == "role") role = tag.Value?.ToString() ?? "";
                    if (tag.Key == "reason") reason = tag.Value?.ToString() ?? "";
                }
                _counts.AddOrUpdate((role, reason), value, (_, c) => c + value);
            });
            _listener.Start();
        }

        public long Count(string role, string reason) => _counts.GetValueOrDefault((role, reason));

        public void Dispose() => _listener.Dispose();
    }
}
