namespace Qkd.Status;

/// <summary>
/// What a node's status page shows, gathered in one place: the node reports each distilled block
/// (<see cref="RecordBlock"/>); the key pool, the devices and the alarms are read when a page asks
/// (<see cref="Snapshot"/>). Keeps the last <see cref="BlockHistory"/> blocks and <see cref="PoolHistory"/> pool samples
/// (fixed rings, no growth). Thread-safe: blocks arrive on the distiller's thread, requests on Kestrel's.
/// </summary>
public sealed class StatusBoard
{
    /// <summary>Blocks kept for the charts.</summary>
    public const int BlockHistory = 720;

    /// <summary>Pool samples kept for the chart (at most one a second: an hour while someone watches).</summary>
    public const int PoolHistory = 3600;

    /// <summary>The window of the headline key rate.</summary>
    public static readonly TimeSpan KeyRateWindow = TimeSpan.FromMinutes(10);

    /// <summary>Cleared alarms older than this leave the document (the timeline shows the last hour).</summary>
    public static readonly TimeSpan ClearedAlarmHorizon = TimeSpan.FromHours(1);

    private readonly Lock _lock = new();
    private readonly TimeProvider _clock;
    private readonly IAlarmFeed _alarms;
    private readonly Func<KeyPoolSizes?> _pool;
    private Func<IReadOnlyList<DeviceHealth>> _devices;
    private readonly Ring<BlockPoint> _blocks = new(BlockHistory);
    private readonly Ring<PoolPoint> _poolSamples = new(PoolHistory);
    private double? _lastQberZ, _lastQberX, _lastTransmittance;
    private long _secretBitsTotal, _blocksTotal, _blocksWithoutKey;
    private DateTimeOffset? _lastBlockAt;

    /// <param name="linkId">The link's ID as configured (shown in the title).</param>
    /// <param name="role">"alice" or "bob".</param>
    /// <param name="alarms">The link monitor's alarms (<see cref="NoAlarms.Instance"/> without one).</param>
    /// <param name="pool">The key pool's sizes now (null while it is not open).</param>
    /// <param name="devices">The devices' health now.</param>
    /// <param name="clock">The clock (a fake one in tests).</param>
    public StatusBoard(string linkId, string role, IAlarmFeed? alarms = null, Func<KeyPoolSizes?>? pool = null,
        Func<IReadOnlyList<DeviceHealth>>? devices = null, TimeProvider? clock = null)
    {
        LinkId = linkId;
        Role = role;
        _alarms = alarms ?? NoAlarms.Instance;
        _pool = pool ?? (() => null);
        _devices = devices ?? (() => []);
        _clock = clock ?? TimeProvider.System;
        RunningSince = _clock.GetUtcNow();
    }

    public string LinkId { get; }

    public string Role { get; }

    public DateTimeOffset RunningSince { get; }

    /// <summary>Replaces the devices' source (a node opens its devices after its metrics listener).</summary>
    public void ShowDevices(Func<IReadOnlyList<DeviceHealth>> devices) => Volatile.Write(ref _devices, devices ?? throw new ArgumentNullException(nameof(devices)));

    /// <summary>One distilled block (Bob's distiller reports every block; call from any thread).</summary>
    public void RecordBlock(BlockReport block)
    {
        ArgumentNullException.ThrowIfNull(block);
        var now = _clock.GetUtcNow();
        double? qberZ = Percent(block.QberZ), qberX = Percent(block.QberX), transmittance = Fraction(block.Transmittance);
        KeyPoolSizes? pool = SafePool();
        lock (_lock)
        {
            double seconds = (now - (_lastBlockAt ?? RunningSince)).TotalSeconds;
            double rate = seconds > 0 ? block.SecretBits / seconds : 0;
            _blocks.Add(new BlockPoint(block.BlockId, now, block.ProducedKey, block.ProducedKey ? null : block.Reason ?? "no reason given",
                qberZ, qberX, LossDb(transmittance), rate, block.SecretBits));
            _lastBlockAt = now;
            _lastQberZ = qberZ ?? _lastQberZ;
            _lastQberX = qberX ?? _lastQberX;
            _lastTransmittance = transmittance ?? _lastTransmittance;
            _secretBitsTotal += block.SecretBits;
            _blocksTotal++;
            if (!block.ProducedKey) _blocksWithoutKey++;
            if (pool is not null) _poolSamples.Add(new PoolPoint(now, pool.AvailableAsMaster, pool.HeldForPeer));
        }
    }

    /// <summary>The document of this moment.</summary>
    public StatusDocument Snapshot()
    {
        var now = _clock.GetUtcNow();
        var alarms = _alarms.Alarms()
            .Where(a => a.ClearedAt is not { } cleared || now - cleared <= ClearedAlarmHorizon)
            .OrderBy(a => a.RaisedAt)
            .Select(a => new AlarmEntry(a.Kind, a.ThreatensSecurity, a.IsRaised, a.RaisedAt, a.ClearedAt, a.BlockId, a.Message, Finite(a.Value), Finite(a.Threshold)))
            .ToList();
        var devices = Volatile.Read(ref _devices)();
        KeyPoolSizes? pool = SafePool();
        lock (_lock)
        {
            if (pool is not null && (_poolSamples.Count == 0 || now - _poolSamples.Last.At >= TimeSpan.FromSeconds(1)))
                _poolSamples.Add(new PoolPoint(now, pool.AvailableAsMaster, pool.HeldForPeer));
            var blocks = _blocks.ToList();
            var last = blocks.Count > 0 ? blocks[^1] : null;
            var latest = new LatestValues(last?.BlockId, last?.At, _lastQberZ, _lastQberX, _lastTransmittance, LossDb(_lastTransmittance),
                KeyRate(blocks, now), _secretBitsTotal, _blocksTotal, _blocksWithoutKey);
            return new StatusDocument(now, LinkId, Role, RunningSince, Headline(last, alarms, devices, Role), latest, blocks,
                pool is null ? null : new PoolStatus(pool, _poolSamples.ToList()), devices, alarms);
        }
    }

    /// <summary>
    /// The headline, in order of what matters most: a raised security alarm stops key generation; before the first block
    /// there is no data; a last block without key means the link is not producing; otherwise it produces, with
    /// attention asked for a raised non-security alarm or an unhealthy device. Alice's node never sees blocks (Bob's
    /// distiller runs the protocol), so her "no data" says where the block figures are.
    /// </summary>
    public static StatusHeadline Headline(BlockPoint? lastBlock, IReadOnlyList<AlarmEntry> alarms, IReadOnlyList<DeviceHealth> devices, string role = "bob")
    {
        var security = alarms.Where(a => a.Raised && a.ThreatensSecurity).ToList();
        var warnings = alarms.Where(a => a.Raised && !a.ThreatensSecurity).Select(a => a.Message)
            .Concat(devices.Where(d => !d.Healthy).Select(d => $"{d.Name} is {d.State}{(d.Detail is null ? "" : $" ({d.Detail})")}"))
            .ToList();
        if (security.Count > 0)
            return new(Name(HeadlineState.Stopped), "Key generation stopped by a security alarm", string.Join("; ", security.Select(a => a.Message)));
        if (lastBlock is null)
            return new(Name(HeadlineState.NoData), role == "alice" ? "No block figures here: Bob's node distils and reports them" : "No data yet: waiting for the first block",
                warnings.Count > 0 ? string.Join("; ", warnings) : null);
        if (!lastBlock.ProducedKey)
            return new(Name(HeadlineState.Stopped), "Link is not producing key", lastBlock.Reason);
        return warnings.Count > 0
            ? new(Name(HeadlineState.Attention), "Link is producing key, but needs attention", string.Join("; ", warnings))
            : new(Name(HeadlineState.Producing), "Link is producing key", null);
    }

    private static string Name(HeadlineState state) => state switch
    {
        HeadlineState.NoData => "noData",
        HeadlineState.Producing => "producing",
        HeadlineState.Attention => "attention",
        _ => "stopped",
    };

    private double? KeyRate(List<BlockPoint> blocks, DateTimeOffset now)
    {
        if (blocks.Count == 0) return null;
        var since = now - KeyRateWindow;
        long bits = blocks.Where(b => b.At > since).Sum(b => b.SecretBits);
        double seconds = (now - (RunningSince > since ? RunningSince : since)).TotalSeconds;
        return seconds > 0 ? bits / seconds : null;
    }

    private KeyPoolSizes? SafePool()
    {
        // A pool being closed or reopened (between sessions, at shutdown) is "no data", not a failed page.
        try
        {
            return _pool();
        }
        catch (ObjectDisposedException)
        {
            return null;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private static double? Finite(double? value) => value is { } v && double.IsFinite(v) ? v : null;

    private static double? Percent(double fraction) => double.IsFinite(fraction) ? fraction * 100 : null;

    private static double? Fraction(double transmittance) => double.IsFinite(transmittance) && transmittance > 0 ? Math.Min(transmittance, 1) : null;

    private static double? LossDb(double? transmittance) => transmittance is { } t ? -10 * Math.Log10(t) : null;
}
