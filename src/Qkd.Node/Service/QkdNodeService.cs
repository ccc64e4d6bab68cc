using System.Net;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Qkd.Distillation;
using Qkd.Core.Channel;
using Qkd.Emulation.Hosting;
using Qkd.ClassicalChannel;
using Qkd.Node.Devices;
using Qkd.Kme.Delivery;
using Qkd.Kme.Pool;
using Qkd.Node.Link;
using Qkd.Node.Metrics;
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
/// section, a Prometheus endpoint serves the node's meters (<see cref="MetricsServer"/>).
/// </summary>
public sealed class QkdNodeService(NodeConfig config, ILoggerFactory loggers) : BackgroundService
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);
    private readonly ILogger _logger = loggers.CreateLogger($"qkd.{config.Role}");

    /// <summary>Sessions finished (with or without key), for status and tests.</summary>
    public int SessionsRun { get; private set; }

    /// <summary>The key server's address once started (null without one).</summary>
    public Uri? KeyDeliveryAddress { get; private set; }

    /// <summary>The metrics endpoint's address once started (null without one).</summary>
    public Uri? MetricsAddress { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await RunAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            _logger.LogInformation("Stopped");
        }
        catch (Exception e)
        {
            _logger.LogCritical(e, "The node failed: {Error}", e.Message);
            throw;
        }
    }

    private async Task RunAsync(CancellationToken stoppingToken)
    {
        bool alice = config.IsAlice;
        var end = alice ? ChannelEnd.Alice : ChannelEnd.Bob;
        string stateDirectory = config.PathOf(config.ClassicalChannel.StateDirectory);
        Directory.CreateDirectory(stateDirectory);

        using var operatorKey = config.KeyPool.OperatorKeyFile is string keyFile
            ? OperatorKey.FromFile(config.PathOf(keyFile))
            : OperatorKey.FromEnvironment(config.KeyPool.OperatorKeyEnvironmentVariable!);
        using var pool = new SqliteKeyPool(new SqliteKeyPoolOptions
        {
            DatabasePath = config.PathOf(config.KeyPool.Database),
            LinkId = config.LinkId,
            Role = alice ? KmeRole.Alice : KmeRole.Bob,
            KeySizeBits = config.KeyPool.KeySizeBits,
            MaxKeyCount = config.KeyPool.MaxKeyCount,
        }, operatorKey, loggers.CreateLogger<SqliteKeyPool>());
        using var pad = AuthenticationPadStore.Open(config.PathOf(config.ClassicalChannel.PreSharedSecretFile), stateDirectory, end);
        using var metrics = new NodeMetrics(config.LinkId, config.Role);
        using var padMetrics = metrics.ObservePadStore(pad);
        var metricsListen = config.Metrics?.ListenEndPoint;
        await using var metricsServer = metricsListen is null ? null : new MetricsServer(metricsListen, loggers);
        if (metricsServer is not null)
        {
            await metricsServer.StartAsync(stoppingToken).ConfigureAwait(false);
            MetricsAddress = new Uri(metricsServer.BaseAddress, "metrics");
            _logger.LogInformation("Prometheus metrics on {Address}", MetricsAddress);
            if (!IPAddress.IsLoopback(metricsListen!.Address))
                _logger.LogWarning("The metrics endpoint is plain HTTP without authentication and listens beyond loopback ({Address}): keep it on a management network", MetricsAddress);
        }

        // Real devices are opened now: one that is absent stops the start-up, naming it.
        using var devices = config.Devices is { } bench ? NodeDevices.Create(bench, alice, config.SourceFile ?? "the configuration") : null;
        devices?.ConnectAndConfigure(config.Receiver);
        if (devices is not null)
            _logger.LogInformation("Devices: {Devices}", string.Join("; ", new Hardware.Devices.IDevice?[] { devices.Modulator, devices.Detector, devices.Tagger }
                .OfType<Hardware.Devices.IDevice>().Select(d => $"{d.Name} ({d.Identity})")));

        var endpoint = IPEndPoint.Parse(config.ClassicalChannel.Endpoint);
        // KME-to-KME reservations travel on their own channel (next port), so they never wait behind a session.
        await using var syncChannel = new TcpClassicalChannel(ChannelOptions(end, new IPEndPoint(endpoint.Address, endpoint.Port + 1)), pad,
            loggers.CreateLogger("qkd.kme-link"));
        using var syncChannelMetrics = metrics.Channels.Track("kme", syncChannel.Security);
        await using var kmeSync = new KmeSync(syncChannel, pool, loggers.CreateLogger("qkd.kme-link"));
        EtsiKeyDeliveryServer? server = null;
        if (config.KeyDelivery is { } delivery)
        {
            // Certificate paths in the config are relative to the config file, like every other path there.
            var resolved = delivery with
            {
                ServerCertificatePath = config.PathOf(delivery.ServerCertificatePath),
                ServerKeyPath = delivery.ServerKeyPath is null ? null : config.PathOf(delivery.ServerKeyPath),
                TrustedClientCaPaths = delivery.TrustedClientCaPaths.Select(config.PathOf).ToArray(),
            };
            server = new EtsiKeyDeliveryServer(resolved, pool, kmeSync, loggers);
            await server.StartAsync(stoppingToken).ConfigureAwait(false);
            KeyDeliveryAddress = server.BaseAddress;
            _logger.LogInformation("ETSI GS QKD 014 key delivery on {Address}", server.BaseAddress);
        }
        try
        {
            var counter = new SessionCounter(stateDirectory);
            var sink = new MeteredKeySink(new ReplenishingKeySink(pool, pad, config.AuthenticationReplenishBits), metrics);
            var ledger = new PoolLedger(pool);
            // Only sessions that ran to their end count: a broken one is retried as a new session.
            while (config.Sessions == 0 || SessionsRun < config.Sessions)
            {
                stoppingToken.ThrowIfCancellationRequested();
                metrics.SessionStarted();
                try
                {
                    var summary = alice
                        ? await RunAliceSessionAsync(endpoint, end, pad, counter, ledger, sink, metrics, devices, stoppingToken).ConfigureAwait(false)
                        : await RunBobSessionAsync(endpoint, end, pad, counter, ledger, sink, metrics, devices, stoppingToken).ConfigureAwait(false);
                    SessionsRun++;
                    metrics.SessionCompleted();
                    var account = pad.Account;
                    _logger.LogInformation("Session {Session}: {Closing}; pool: {Available} keys to hand out, {Held} held for the peer; " +
                        "authentication pad: {Used} bits used by tags in this process, {Replenished} replenished from key, {Remaining} left",
                        summary.Session, summary.Closing, pool.AvailableAsMaster, pool.HeldForPeer,
                        account.TagBitsUsedThisProcess, account.ReplenishedBits, account.RemainingBits);
                    if (account.RemainingBits < 4L * account.TagBitsUsedThisProcess / Math.Max(1, SessionsRun))
                        _logger.LogWarning("The authentication pad has room for fewer than about 4 more sessions: Cascade's round trips cost more tag bits than a block yields; add pre-shared secret or raise authenticationReplenishBits");
                }
                catch (Exception e) when (e is ClassicalChannelClosedException or IOException or InvalidDataException or Protocol.DeviceException or TimeoutException)
                {
                    metrics.SessionAborted(SessionAbortReason.Of(e));
                    _logger.LogWarning("Session broken: {Error}; opening a new one", e.Message);
                    await Task.Delay(RetryDelay, stoppingToken).ConfigureAwait(false);
                }
            }
            _logger.LogInformation("{Sessions} session(s) done; serving keys until stopped", SessionsRun);
            await Task.Delay(Timeout.Infinite, stoppingToken).ConfigureAwait(false);
        }
        finally
        {
            if (server is not null) await server.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task<SessionSummary> RunAliceSessionAsync(IPEndPoint endpoint, ChannelEnd end, AuthenticationPadStore pad, SessionCounter counter,
        IBlockLedger ledger, IKeySink sink, NodeMetrics metrics, NodeDevices? devices, CancellationToken cancellationToken)
    {
        await using var channel = new TcpClassicalChannel(ChannelOptions(end, endpoint), pad, loggers.CreateLogger("qkd.channel"));
        using var channelMetrics = metrics.Channels.Track("session", channel.Security);
        var outcome = await SessionHandshake.RunAsync(channel, config.LinkId, DistillationProtocol.Version, counter, ledger, initiator: true, _logger, cancellationToken).ConfigureAwait(false);
        // Bob listens on the fibre before he answers the handshake, so the light finds him.
        using var emulated = config.Emulator is { } emulator ? EmulatedTransmitter.Create(IPEndPoint.Parse(emulator.Fibre), Transport()) : null;
        devices?.ConnectAndConfigure(config.Receiver); // after a fault broke the last session
        var modulator = emulated?.Modulator ?? devices!.Modulator!;
        var summary = await new AliceEnd(config, modulator, sink, _logger).RunSessionAsync(channel, outcome.Session, cancellationToken).ConfigureAwait(false);
        channel.Complete();
        return summary;
    }

    private async Task<SessionSummary> RunBobSessionAsync(IPEndPoint endpoint, ChannelEnd end, AuthenticationPadStore pad, SessionCounter counter,
        IBlockLedger ledger, IKeySink sink, NodeMetrics metrics, NodeDevices? devices, CancellationToken cancellationToken)
    {
        EmulatedReceiver? emulated = null;
        if (config.Emulator is { } emulator)
        {
            var (profile, settings) = config.EmulatedLink();
            emulated = EmulatedReceiver.Create(profile, EmulatedLinkRunner.TaggerOptionsFor(settings, long.MaxValue), emulator.Seed,
                IPEndPoint.Parse(emulator.Fibre), Transport());
            emulated.ConnectAndConfigure(profile, syncChannel: 0);
        }
        using var ownedEmulated = emulated;
        devices?.ConnectAndConfigure(config.Receiver); // after a fault broke the last session
        var tagger = emulated?.Tagger ?? devices!.Tagger!;
        await using var channel = new TcpClassicalChannel(ChannelOptions(end, endpoint), pad, loggers.CreateLogger("qkd.channel"));
        using var channelMetrics = metrics.Channels.Track("session", channel.Security);
        var outcome = await SessionHandshake.RunAsync(channel, config.LinkId, DistillationProtocol.Version, counter, ledger, initiator: false, _logger, cancellationToken).ConfigureAwait(false);
        var summary = await new BobEnd(config, tagger, sink, _logger, metrics).RunSessionAsync(channel, outcome.Session, cancellationToken).ConfigureAwait(false);
        channel.Complete();
        return summary;
    }

    private TcpClassicalChannelOptions ChannelOptions(ChannelEnd end, IPEndPoint endpoint) => end == ChannelEnd.Alice
        ? new TcpClassicalChannelOptions { LocalEnd = end, ConnectEndpoint = endpoint }
        : new TcpClassicalChannelOptions { LocalEnd = end, ListenEndpoint = endpoint };

    private EmulatedDeviceTransport Transport() =>
        config.Emulator?.Transport == "pty" ? EmulatedDeviceTransport.PseudoTerminal : EmulatedDeviceTransport.InProcess;

    /// <summary>The pool's blocks for the session handshake.</summary>
    private sealed class PoolLedger(SqliteKeyPool pool) : IBlockLedger
    {
        public IReadOnlyList<long> StoredBlockIds() => pool.StoredBlockIds();

        public long DiscardBlocks(IReadOnlyCollection<long> blockIds) => pool.DiscardBlocks(blockIds);
    }
}
