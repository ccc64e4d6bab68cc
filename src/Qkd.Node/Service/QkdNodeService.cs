using Qkd.Hardware.RandomNumberGenerator;
using Qkd.Hardware.Peripherals;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Qkd.Distillation;
using Qkd.Core.Channel;
using Qkd.Emulation.Hosting;
using Qkd.ClassicalChannel;
using Qkd.Node.Devices;
using Qkd.Node.Entropy;
using Qkd.Kme.Delivery;
using Qkd.Kme.Pool;
using Qkd.Node.Link;
using Qkd.Node.Metrics;
using Qkd.Status;
using Qkd.Protocol;
using Qkd.Core.Keys;
using Qkd.Kme.PeerLink;
using Qkd.Distillation.Messages;

namespace Qkd.Node.Service;

/// <summary>
/// One end of a link as a long-running service (`qkd alice`, `qkd bob`): the durable key pool, the authenticated
/// classical channel to the peer, the ETSI GS QKD 014 server, and sessions of key generation run back to back. A session
/// that breaks (the peer restarted, the link dropped beyond what the channel resumes) ends; the next opens with a
/// handshake that makes both pools agree again, under a session number neither end has used. Stops gracefully on
/// SIGTERM (the host's lifetime): the current session is cancelled, the server and stores are closed. With a "metrics"
/// section, a Prometheus endpoint serves the node's meters (<see cref="MetricsServer"/>). The peripherals' buses come from
/// <paramref name="buses"/> when the host registers an <see cref="IPeripheralBusFactory"/> (tests: simulated chips), else
/// from the kernel's devices.
/// </summary>
public sealed class QkdNodeService(NodeConfig config, ILoggerFactory loggers, IHostApplicationLifetime lifetime, IPeripheralBusFactory? buses = null)
    : BackgroundService
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);
    private readonly ILogger _logger = loggers.CreateLogger($"qkd.{config.Role}");
    private FrameSyncMetrics? _frameSyncMetrics;

    // Completed when the node is up (pool, pad and servers open and listening), faulted with what kept it from starting.
    private readonly TaskCompletionSource _startedUp = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Until a session has opened its devices, a device that fails to open is a start-up failure, not a broken session.
    private bool _devicesOpenedOnce;

    /// <summary>Sessions finished (with or without key), for status and tests.</summary>
    public int SessionsRun { get; private set; }

    /// <summary>The link's key pool while the node runs (null before start-up and after stop): a network node's relay takes its link key here.</summary>
    public IKeyPool? KeyPool { get; private set; }

    /// <summary>The key server's address once started (null without one).</summary>
    public Uri? KeyDeliveryAddress { get; private set; }

    /// <summary>The link monitor (alarms, estimates) once the node runs; Bob's sessions feed it.</summary>
    public NodeLinkMonitor? LinkMonitor { get; private set; }

    /// <summary>The metrics endpoint's address once started (null without one).</summary>
    public Uri? MetricsAddress { get; private set; }

    /// <summary>
    /// What stopped the node after it had started (null: nothing, or it was stopped on request). A
    /// <see cref="NodeStartupException"/> here is a start-up check only the first session could make (a device that is
    /// absent, the channel's port taken).
    /// </summary>
    public Exception? Failure { get; private set; }

    /// <summary>
    /// Returns when the node is up: the key pool and the authentication pad are open and the ETSI 014 server, the
    /// metrics endpoint and the KME link listen. So the host's "started" (and with systemd, READY=1) means the node can
    /// serve keys, and a node that cannot start throws here a <see cref="NodeStartupException"/> naming what failed.
    /// </summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _startedUp.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await base.StopAsync(CancellationToken.None).ConfigureAwait(false); // stopped while starting: close what opened
            throw;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await RunAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            _startedUp.TrySetCanceled(stoppingToken);
            _logger.LogInformation("Stopped");
        }
        catch (Exception e)
        {
            // Not rethrown: the host would log it again with its stack trace and still exit 0. StartAsync hands a
            // start-up failure to the host; a later one stops the host and stays in Failure for the exit code.
            if (_startedUp.TrySetException(e)) return;
            if (Failure is not null) return; // already stopping for a reason it named (a stale pad)
            Failure = e;
            _logger.LogCritical("The node failed: {Error}", e.Message);
            _logger.LogDebug(e, "The node failed");
            lifetime.StopApplication();
        }
    }

    private async Task RunAsync(CancellationToken stoppingToken)
    {
        bool alice = config.IsAlice;
        var end = alice ? ChannelEnd.Alice : ChannelEnd.Bob;
        string stateDirectory = config.PathOf(config.ClassicalChannel.StateDirectory);
        Step(NodeStartupFailure.Files, "classicalChannel.stateDirectory", () => Directory.CreateDirectory(stateDirectory));

        using var operatorKey = config.KeyPool.OperatorKeyFile is string keyFile
            ? Step(NodeStartupFailure.Files, "keyPool.operatorKeyFile", () => OperatorKey.FromFile(config.PathOf(keyFile)))
            : Step(NodeStartupFailure.Configuration, "keyPool.operatorKeyEnvironmentVariable", () => OperatorKey.FromEnvironment(config.KeyPool.OperatorKeyEnvironmentVariable!));
        using var pool = Step(NodeStartupFailure.Files, "keyPool.database", () => new SqliteKeyPool(new SqliteKeyPoolOptions
        {
            DatabasePath = config.PathOf(config.KeyPool.Database),
            LinkId = config.LinkId,
            Role = alice ? KmeRole.Alice : KmeRole.Bob,
            KeySizeBits = config.KeyPool.KeySizeBits,
            MaxKeyCount = config.KeyPool.MaxKeyCount,
            ReservationExpiry = TimeSpan.FromSeconds(config.KeyPool.ReservationExpirySeconds),
        }, operatorKey, loggers.CreateLogger<SqliteKeyPool>()));
        string preSharedSecret = config.PathOf(config.ClassicalChannel.PreSharedSecretFile);
        using var pad = Step(NodeStartupFailure.Files, e => FieldNaming(e, "classicalChannel.stateDirectory", ("classicalChannel.preSharedSecretFile", preSharedSecret)),
            () => AuthenticationPadStore.Open(preSharedSecret, stateDirectory, end));
        var (auditLog, auditKey) = config.Audit is { } auditConfig ? Step(NodeStartupFailure.Files, "audit", () => Audit.AuditLog.OpenConfigured(auditConfig, config.BaseDirectory)) : default;
        using var auditFiles = auditKey; using var auditLogFile = auditLog;
        Audit.IAuditLog audit = (Audit.IAuditLog?)auditLog ?? Audit.NullAuditLog.Instance;
        auditLog?.WriteNodeStarted(config.Role, config.LinkId, config.SourceFile);
        using var metrics = new NodeMetrics(config.LinkId, config.Role);
        using var linkMonitor = LinkMonitor = new NodeLinkMonitor(config.Monitor, config.LinkId, config.Role, loggers.CreateLogger("qkd.monitor"));
        // Every raise and clear goes into the tamper-evident log too (the alarm's statistic and message, never key material).
        linkMonitor.Monitor.Board.Changed += change => audit.Write(change.Raised
            ? Audit.AuditEvent.AlarmRaised($"{change.Alarm.Kind} #{change.Alarm.Id}", change.Alarm.ThreatensSecurity ? "security" : "warning", change.Alarm.Message)
            : Audit.AuditEvent.AlarmCleared($"{change.Alarm.Kind} #{change.Alarm.Id}", change.Alarm.Message));
        using var frameSyncMetrics = new FrameSyncMetrics(config.LinkId, config.Role);
        _frameSyncMetrics = frameSyncMetrics;
        using var padMetrics = metrics.ObservePadStore(pad);
        // A QRNG (optional): its checked entropy keys Alice's symbols with the OS CSPRNG; unhealthy, it holds key generation.
        using var entropyMetrics = new EntropyMetrics(config.LinkId, config.Role);
        var qrngLog = loggers.CreateLogger("qkd.qrng");
        using var entropy = config.Devices?.RandomNumberGenerator is { } qrng
            ? Step(NodeStartupFailure.Devices, "devices.randomNumberGenerator",
                () => NodeQrng.Open(qrng, qrngLog, entropyMetrics, config.Devices.ConnectionOptions))
            : config.Emulator?.RandomNumberGenerator is { } emulatedQrng
                ? NodeQrng.OpenEmulated(emulatedQrng, Core.Random.SplitMix64.Mix(config.Emulator.Seed ^ 0x514E5247UL), qrngLog, entropyMetrics)
                : null;
        var metricsListen = config.Metrics is { } metricsConfig ? await metricsConfig.Endpoint.ResolveAsync("metrics.listen", stoppingToken).ConfigureAwait(false) : null;
        // The operator's status page on the metrics listener: blocks as Bob's distiller reports them, the rest read per request.
        var sent = config.LinkSettings();
        var light = new SignalLight(sent.PulseRateHz, sent.SignalProbability, sent.SignalMeanPhotonNumber, sent.AliceProbabilityZ, config.ReceiverBasisProbabilityZ);
        var status = new StatusBoard(config.LinkId, config.Role, new MonitorAlarmFeed(linkMonitor.Monitor.Board), () => KeyPoolSizes.Of(pool));
        metrics.BlockReported += block => status.RecordBlock(BlockReports.From(block, light));
        await using var metricsServer = metricsListen is null ? null : new MetricsServer(metricsListen, loggers, linkMonitor, status);
        if (metricsServer is not null)
        {
            await StepAsync(NodeStartupFailure.Network, "metrics.listen", () => metricsServer.StartAsync(stoppingToken)).ConfigureAwait(false);
            MetricsAddress = new Uri(metricsServer.BaseAddress, "metrics");
            _logger.LogInformation("Prometheus metrics on {Address}, the status page on {Page}", MetricsAddress, new Uri(metricsServer.BaseAddress, "status"));
            if (!IPAddress.IsLoopback(metricsListen!.Address))
                _logger.LogWarning("The metrics endpoint is plain HTTP without authentication and listens beyond loopback ({Address}): keep it on a management network", MetricsAddress);
        }

        // Host names resolve here, so a name that does not is a start-up error naming its field. Bob listens on the
        // address; Alice connects to the name, which the socket resolves again at every connection attempt.
        var channelEndpoint = ConfiguredEndpoint.Parse(config.ClassicalChannel.Endpoint, "classicalChannel.endpoint");
        var channelAddress = await channelEndpoint.ResolveAsync("classicalChannel.endpoint", stoppingToken).ConfigureAwait(false);
        EndPoint endpoint = alice ? channelEndpoint.ForConnecting() : channelAddress;
        var fibre = config.Emulator is { } emulator
            ? await ConfiguredEndpoint.Parse(emulator.Fibre, "emulator.fibre").ResolveAsync("emulator.fibre", stoppingToken).ConfigureAwait(false)
            : null;
        // Real devices are opened now: one that is absent stops the start-up, naming it, its port and the config file.
        using var devices = config.Devices is { } bench
            ? Step(NodeStartupFailure.Devices, "devices", () =>
            {
                var opened = NodeDevices.Create(bench, alice, config.SourceFile ?? "the configuration", config.LoadCalibration());
                try
                {
                    opened.ConnectAndConfigure(config.Receiver);
                    return opened;
                }
                catch
                {
                    opened.Dispose();
                    throw;
                }
            })
            : null;
        if (devices is not null)
            _logger.LogInformation("Devices: {Devices}", string.Join("; ", new Hardware.Devices.IDevice?[] { devices.Modulator, devices.Detector, devices.Tagger }
                .OfType<Hardware.Devices.IDevice>().Select(d => $"{d.Name} ({d.Identity})")));
        status.ShowDevices(() => [.. new Hardware.Devices.IDevice?[] { devices?.Modulator, devices?.Detector, devices?.Tagger }.OfType<Hardware.Devices.IDevice>().Select(DeviceHealths.Of),
            .. entropy is null ? [] : new[] { DeviceHealths.Qrng(entropy.DeviceName, entropy.IsHealthy, entropy.Alarm) }, .. devices is null ? [DeviceHealths.Emulated("emulated bench")] : Array.Empty<DeviceHealth>()]);
        // KME-to-KME reservations travel on their own channel, so they never wait behind a session.
        string kmeLinkField = config.ClassicalChannel.KmeLinkEndpoint is null ? "classicalChannel.endpoint (port + 1: the KME link)" : "classicalChannel.kmeLinkEndpoint";
        var kmeLinkEndpoint = config.ClassicalChannel.KmeLink();
        if (config.ClassicalChannel.KmeLinkEndpoint is null)
            _logger.LogWarning("classicalChannel.kmeLinkEndpoint is not set: the KME link uses the channel's port + 1 ({Endpoint}) as before; add \"kmeLinkEndpoint\": \"{Endpoint}\" to classicalChannel (both ends alike) so every port the node uses is in its config",
                kmeLinkEndpoint, kmeLinkEndpoint);
        var kmeLinkAddress = await kmeLinkEndpoint.ResolveAsync(kmeLinkField, stoppingToken).ConfigureAwait(false);
        // Pad state older than the peer's (deleted or restored), found by either channel: the node must not go on.
        _ = pad.Stale.ContinueWith(t => StopOnStalePad(t.Result), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        EndPoint kmeLinkTarget = alice ? kmeLinkEndpoint.ForConnecting() : kmeLinkAddress;
        var kmeLinkLog = loggers.CreateLogger("qkd.kme-link");
        // One channel per session of the KME link: when the peer restarts the session ends for good (SessionLost) and
        // the link opens the next one itself. The first opens now, so a port another program holds stops the start-up.
        KmeLinkChannel OpenKmeLink()
        {
            var channel = new TcpClassicalChannel(ChannelOptions(end, kmeLinkTarget, ChannelKind.KmeLink), pad, kmeLinkLog);
            var tracking = metrics.Channels.Track("kme", channel.Security);
            return new KmeLinkChannel(channel, () => channel.IsConnected, async () =>
            {
                await channel.DisposeAsync().ConfigureAwait(false);
                tracking.Dispose();
            });
        }
        var firstKmeLink = Step(NodeStartupFailure.Network, kmeLinkField, OpenKmeLink);
        using var hybrid = config.Hybrid is { } h ? Step(NodeStartupFailure.Files, "hybrid", () => h.Open(config.PathOf)) : null;
        await using var kmeSync = new PeerKmeLink(firstKmeLink, OpenKmeLink, pool, kmeLinkLog, new PeerKmeLinkOptions { HybridKeys = hybrid });
        await using var vehicles = config.VehicleGateway is { } v
            ? Step(NodeStartupFailure.Network, "vehicleGateway", () => v.Start(pool, kmeSync, operatorKey, config.PathOf, loggers.CreateLogger("qkd.vehicle-gateway")))
            : null;
        EtsiKeyDeliveryServer? server = null;
        try
        {
            if (config.KeyDelivery is { } delivery)
            {
                // Certificate paths in the config are relative to the config file, like every other path there.
                // A host name listens on its address (resolved now, so a name that does not resolve is named).
                string listenAddress = IPAddress.TryParse(delivery.ListenAddress, out _) || ConfiguredEndpoint.TryParse($"{delivery.ListenAddress}:{delivery.Port}") is not { } named
                    ? delivery.ListenAddress
                    : (await named.ResolveAsync("keyDelivery.listenAddress", stoppingToken).ConfigureAwait(false)).Address.ToString();
                var resolved = delivery with
                {
                    ListenAddress = listenAddress,
                    ServerCertificatePath = config.PathOf(delivery.ServerCertificatePath),
                    ServerKeyPath = delivery.ServerKeyPath is null ? null : config.PathOf(delivery.ServerKeyPath),
                    TrustedClientCaPaths = delivery.TrustedClientCaPaths.Select(config.PathOf).ToArray(),
                    ClientCrlPaths = delivery.ClientCrlPaths.Select(config.PathOf).ToArray(),
                    HybridKeys = hybrid,
                };
                server = Step(NodeStartupFailure.Files,
                    e => FieldNaming(e, "keyDelivery",
                        [("keyDelivery.serverKeyPath", resolved.ServerKeyPath), ("keyDelivery.serverCertificatePath", resolved.ServerCertificatePath),
                         .. resolved.TrustedClientCaPaths.Select(path => ("keyDelivery.trustedClientCaPaths", (string?)path)),
                         .. resolved.ClientCrlPaths.Select(path => ("keyDelivery.clientCrlPaths", (string?)path))]),
                    () => new EtsiKeyDeliveryServer(resolved, pool, kmeSync, loggers,
                        new KeyDeliveryAuditCallback((operation, master, slave, ids) => audit.Write(Audit.AuditEvent.KeysDelivered(operation, master, slave, ids)))));
                await StepAsync(NodeStartupFailure.Network, "keyDelivery.port", () => server.StartAsync(stoppingToken)).ConfigureAwait(false);
                KeyDeliveryAddress = server.BaseAddress;
                _logger.LogInformation("ETSI GS QKD 014 key delivery on {Address}", server.BaseAddress);
            }
            // Peripherals and GPIO lines (optional, on devices): bias set, readings exported, and a gate that stops key
            // generation while the interlock is open or the monitor photodiode sees bright light.
            using var peripherals = Step(NodeStartupFailure.Devices, "devices", () => NodePeripherals.Open(config.Devices?.Peripherals, config.Devices?.Gpio,
                buses ?? SystemPeripheralBusFactory.Instance, config.LinkId, config.Role, loggers.CreateLogger("qkd.peripherals")));
            // Stopped (and awaited) before the peripherals are disposed: a poll never reads a closed bus.
            await using var polling = config.Devices?.Peripherals is null ? null : new BackgroundLoop(peripherals.RunAsync, stoppingToken);
            KeyPool = pool;
            _startedUp.TrySetResult();

            var counter = new SessionCounter(stateDirectory);
            var sink = new MeteredKeySink(new ReplenishingKeySink(pool, pad, config.AuthenticationReplenishBits), metrics);
            var ledger = new PoolLedger(pool);
            // Only sessions that ran to their end count: a broken one is retried as a new session.
            while (config.Sessions == 0 || SessionsRun < config.Sessions)
            {
                stoppingToken.ThrowIfCancellationRequested();
                if (!peripherals.MayGenerate(out string? blocked)) _logger.LogWarning("Key generation waits: {Reason}", blocked);
                await peripherals.WaitUntilAllowedAsync(stoppingToken).ConfigureAwait(false);
                if (entropy is { IsHealthy: false })
                {
                    _logger.LogWarning("Key generation waits for {Source}: {Alarm}", entropy.Description, entropy.Alarm);
                    await entropy.WaitUntilHealthyAsync(stoppingToken).ConfigureAwait(false);
                }
                metrics.SessionStarted();
                audit.Write(Audit.AuditEvent.SessionStarted());
                // A gate that closes mid-session (interlock opened, bright light) ends the session at once.
                using var sessionStop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                string? stoppedBy = null;
                EventHandler<KeyGenerationGateEventArgs> onGate = (_, e) =>
                {
                    if (e.Allowed) return;
                    stoppedBy = e.Reason;
                    sessionStop.Cancel();
                };
                peripherals.Changed += onGate;
                peripherals.SessionStarted();
                if (!peripherals.MayGenerate(out string? closed))
                {
                    stoppedBy = closed;
                    sessionStop.Cancel();
                }
                try
                {
                    var summary = alice
                        ? await RunAliceSessionAsync(endpoint, fibre, devices, entropy, end, pad, counter, ledger, sink, metrics, sessionStop.Token).ConfigureAwait(false)
                        : await RunBobSessionAsync((IPEndPoint)endpoint, fibre, devices, end, pad, counter, ledger, sink, metrics, sessionStop.Token).ConfigureAwait(false);
                    SessionsRun++;
                    metrics.SessionCompleted();
                    audit.Write(Audit.AuditEvent.SessionEnded(summary.Session, summary.Closing));
                    var account = pad.Account;
                    _logger.LogInformation("Session {Session}: {Closing}; pool: {Available} keys to hand out, {Held} held for the peer; " +
                        "authentication pad: {Used} bits used by tags in this process, {Replenished} replenished from key, {Remaining} left",
                        summary.Session, summary.Closing, pool.AvailableAsMaster, pool.HeldForPeer,
                        account.TagBitsUsedThisProcess, account.ReplenishedBits, account.RemainingBits);
                    if (account.RemainingBits < 4L * account.TagBitsUsedThisProcess / Math.Max(1, SessionsRun))
                        _logger.LogWarning("The authentication pad has room for fewer than about 4 more sessions: Cascade's round trips cost more tag bits than a block yields; add pre-shared secret or raise authenticationReplenishBits");
                }
                catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested && sessionStop.IsCancellationRequested)
                {
                    metrics.SessionAborted(SessionAbortReason.KeyGenerationBlocked);
                    audit.Write(Audit.AuditEvent.SessionAborted($"key generation blocked: {stoppedBy}"));
                    _logger.LogWarning("Session stopped: key generation is blocked ({Reason}); it resumes when the gate opens again", stoppedBy);
                }
                catch (Exception e) when (e is ClassicalChannelClosedException or IOException or InvalidDataException or Protocol.DeviceException or TimeoutException or SocketException
                                           or Core.Random.EntropySourceUnavailableException)
                {
                    metrics.SessionAborted(SessionAbortReason.Of(e));
                    audit.Write(Audit.AuditEvent.SessionAborted(e.Message));
                    _logger.LogWarning("Session broken: {Error}; opening a new one", e.Message);
                    await Task.Delay(RetryDelay, stoppingToken).ConfigureAwait(false);
                }
                finally
                {
                    peripherals.SessionEnded();
                    peripherals.Changed -= onGate;
                }
            }
            _logger.LogInformation("{Sessions} session(s) done; serving keys until stopped", SessionsRun);
            await Task.Delay(Timeout.Infinite, stoppingToken).ConfigureAwait(false);
        }
        finally
        {
            KeyPool = null;
            if (stoppingToken.IsCancellationRequested) audit.Write(Audit.AuditEvent.NodeStopped("stopped on request"));
            if (server is not null) await server.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The authentication pad state turned out older than the peer's: the node stops with a non-zero exit and one line
    /// saying what to do (the store refuses to open again, so a supervisor's restart stops at once too).
    /// </summary>
    private void StopOnStalePad(string message)
    {
        var failure = new NodeStartupException(NodeStartupFailure.Files, $"classicalChannel.stateDirectory: {message}");
        if (_startedUp.TrySetException(failure)) return;
        Failure ??= failure;
        _logger.LogCritical("The node stops: {Error}", failure.Message);
        lifetime.StopApplication();
    }

    /// <summary>Failures of the environment (files, addresses, devices) that a start-up step turns into a named one.</summary>
    private static bool IsEnvironmental(Exception e) => e is IOException or UnauthorizedAccessException or InvalidDataException or AuthenticationPadStaleException
        or OperatorKeyException or Audit.AuditLogException or System.Data.Common.DbException or System.Security.Cryptography.CryptographicException
        or InvalidOperationException or ArgumentException or SocketException or Protocol.DeviceException or Pqc.Vehicle.VehicleProtocolException;

    private static T Step<T>(NodeStartupFailure failure, string field, Func<T> step) => Step(failure, _ => field, step);

    /// <summary>Runs one start-up step; a failure becomes a <see cref="NodeStartupException"/> naming the field at fault.</summary>
    private static T Step<T>(NodeStartupFailure failure, Func<Exception, string> field, Func<T> step)
    {
        try
        {
            return step();
        }
        catch (Exception e) when (IsEnvironmental(e))
        {
            throw new NodeStartupException(failure, $"{field(e)}: {e.Message}", e);
        }
    }

    private static async Task StepAsync(NodeStartupFailure failure, string field, Func<Task> step)
    {
        try
        {
            await step().ConfigureAwait(false);
        }
        catch (Exception e) when (IsEnvironmental(e))
        {
            throw new NodeStartupException(failure, $"{field}: {e.Message}", e);
        }
    }

    /// <summary>The field whose file the exception names (its message or its FileName), else <paramref name="fallback"/>.</summary>
    private static string FieldNaming(Exception e, string fallback, params (string Field, string? Path)[] candidates)
    {
        foreach (var (field, path) in candidates)
            if (path is not null && ((e as FileNotFoundException)?.FileName == path || e.Message.Contains(path, StringComparison.Ordinal)))
                return field;
        return fallback;
    }

    /// <summary>
    /// Opens a session's devices. Until one session has, a device that cannot be opened stops the node (it is absent or
    /// misconfigured, and retrying would hide that); afterwards it only breaks the session, which is retried.
    /// </summary>
    private T OpenDevices<T>(string devicesField, string addressField, Func<T> open)
    {
        try
        {
            var devices = open();
            _devicesOpenedOnce = true;
            return devices;
        }
        catch (Protocol.DeviceException e) when (!_devicesOpenedOnce)
        {
            throw new NodeStartupException(NodeStartupFailure.Devices, $"{devicesField}: {e.Message}", e);
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.AddressAlreadyInUse or SocketError.AddressNotAvailable)
        {
            throw new NodeStartupException(NodeStartupFailure.Network, $"{addressField}: {e.Message}", e);
        }
    }

    private async Task<SessionSummary> RunAliceSessionAsync(EndPoint endpoint, IPEndPoint? fibre, NodeDevices? devices, QrngEntropySource? entropy, ChannelEnd end, AuthenticationPadStore pad, SessionCounter counter,
        IBlockLedger ledger, IKeySink sink, NodeMetrics metrics, CancellationToken cancellationToken)
    {
        await using var channel = new TcpClassicalChannel(ChannelOptions(end, endpoint), pad, loggers.CreateLogger("qkd.channel"));
        using var channelMetrics = metrics.Channels.Track("session", channel.Security);
        // Completed however the session ends: a peer still waiting (for light, for an answer) ends its session too.
        using var completing = new ChannelCompletion(channel);
        var outcome = await SessionHandshake.RunAsync(channel, config.LinkId, DistillationProtocol.Version, counter, ledger, initiator: true, _logger, cancellationToken).ConfigureAwait(false);
        // Bob listens on the fibre before he answers the handshake, so the light finds him.
        using var emulated = fibre is null ? null : OpenDevices("emulator", "emulator.fibre", () => EmulatedTransmitter.Create(fibre, Transport()));
        devices?.ConnectAndConfigure(config.Receiver); // after a fault broke the last session (re-opens a modulator that went away)
        var modulator = emulated?.Modulator ?? devices!.Modulator!;
        return await new AliceEnd(config, modulator, sink, _logger, entropy).RunSessionAsync(channel, outcome.Session, cancellationToken).ConfigureAwait(false);
    }

    private async Task<SessionSummary> RunBobSessionAsync(IPEndPoint endpoint, IPEndPoint? fibre, NodeDevices? devices, ChannelEnd end, AuthenticationPadStore pad, SessionCounter counter,
        IBlockLedger ledger, IKeySink sink, NodeMetrics metrics, CancellationToken cancellationToken)
    {
        using var emulated = fibre is null ? null : OpenDevices("emulator", "emulator.fibre", () =>
        {
            var (profile, settings) = config.EmulatedLink();
            var receiver = EmulatedReceiver.Create(profile, EmulatedSetup.TaggerOptionsFor(settings, long.MaxValue, profile.ReceiverLayout), config.Emulator!.Seed,
                fibre, Transport());
            try
            {
                receiver.ConnectAndConfigure(profile, syncChannel: 0);
                return receiver;
            }
            catch
            {
                receiver.Dispose();
                throw;
            }
        });
        // Bob's session listener binds here: a port taken by another program fails the node, naming the field.
        await using var channel = Step(NodeStartupFailure.Network, "classicalChannel.endpoint",
            () => new TcpClassicalChannel(ChannelOptions(end, endpoint), pad, loggers.CreateLogger("qkd.channel")));
        using var channelMetrics = metrics.Channels.Track("session", channel.Security);
        using var completing = new ChannelCompletion(channel);
        var outcome = await SessionHandshake.RunAsync(channel, config.LinkId, DistillationProtocol.Version, counter, ledger, initiator: false, _logger, cancellationToken).ConfigureAwait(false);
        devices?.ConnectAndConfigure(config.Receiver); // after a fault broke the last session
        var tagger = emulated?.Tagger ?? devices!.Tagger!;
        var detector = emulated?.Detector ?? devices!.Detector;
        try
        {
            return await new BobEnd(config, tagger, sink, _logger, metrics, detector as Hardware.Detector.IBasisModulator, _frameSyncMetrics, LinkMonitor)
                .RunSessionAsync(channel, outcome.Session, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (emulated is not null)
                _logger.LogDebug("Session {Session}: emulated fibre: {Pulses:N0} pulses received{Fault}", outcome.Session, emulated.Fibre.PulsesReceived,
                    emulated.Fibre.Fault is { } fault ? $"; {fault}" : "");
        }
    }

    /// <summary>Alice connects (to an address or a name), Bob listens (on an address).</summary>
    private static TcpClassicalChannelOptions ChannelOptions(ChannelEnd end, EndPoint endpoint, ChannelKind channel = ChannelKind.Session) => end == ChannelEnd.Alice
        ? new TcpClassicalChannelOptions { LocalEnd = end, ConnectEndpoint = endpoint, Channel = channel }
        : new TcpClassicalChannelOptions { LocalEnd = end, ListenEndpoint = (IPEndPoint)endpoint, Channel = channel };

    private EmulatedDeviceTransport Transport() =>
        config.Emulator?.Transport == "pty" ? EmulatedDeviceTransport.PseudoTerminal : EmulatedDeviceTransport.InProcess;

    /// <summary>A loop run until disposed (or the node stops); disposing cancels it and waits for it to end.</summary>
    private sealed class BackgroundLoop : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop;
        private readonly Task _loop;

        public BackgroundLoop(Func<CancellationToken, Task> loop, CancellationToken stopping)
        {
            _stop = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            _loop = loop(_stop.Token);
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync().ConfigureAwait(false);
            try
            {
                await _loop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
            _stop.Dispose();
        }
    }

    /// <summary>Completes a session's channel when disposed (after the session, however it ended), before the channel closes.</summary>
    private readonly struct ChannelCompletion(IClassicalChannel channel) : IDisposable
    {
        public void Dispose() => channel.Complete();
    }

    /// <summary>The pool's blocks for the session handshake.</summary>
    private sealed class PoolLedger(SqliteKeyPool pool) : IBlockLedger
    {
        public IReadOnlyList<long> StoredBlockIds() => pool.StoredBlockIds();

        public long DiscardBlocks(IReadOnlyCollection<long> blockIds) => pool.DiscardBlocks(blockIds);
    }
}
