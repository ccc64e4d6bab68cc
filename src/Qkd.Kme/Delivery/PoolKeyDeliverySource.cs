using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Qkd.Kme.Hybrid;
using Qkd.Kme.Pool;

namespace Qkd.Kme.Delivery;

/// <summary>
/// The keys of one link's KME: taken from its pool (<see cref="IKeyPool"/>) and reserved at the peer KME through
/// <see cref="IReservationNotifier"/> before enc_keys answers; dec_keys takes the reservations the peer made. Hybrid
/// keys combine them with an ML-KEM secret whose ciphertext rides the reservation. No multicast: a pool key is
/// reserved for one slave SAE.
/// </summary>
public sealed partial class PoolKeyDeliverySource : IKeyDeliverySource
{
    private readonly KeyDeliveryOptions _options;
    private readonly IKeyPool _pool;
    private readonly IReservationNotifier _notifier;
    private readonly KeyDeliveryMetrics? _metrics;
    private readonly ILogger _logger;

    public PoolKeyDeliverySource(KeyDeliveryOptions options, IKeyPool pool, IReservationNotifier notifier, ILogger logger, KeyDeliveryMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(notifier);
        _options = options;
        _pool = pool;
        _notifier = notifier;
        _logger = logger;
        _metrics = metrics;
    }

    public int KeySizeBits => _pool.KeySizeBits;

    public int MaxSaeIdCount => _options.MaxSaeIdCount;

    public bool IsReachable => _notifier.IsPeerReachable;

    public string KmeIdOf(string saeId) => _options.PeerKmeId;

    public (long Stored, long Max) KeyCounts(string masterSaeId, string slaveSaeId) => (_pool.AvailableAsMaster, _pool.MaxKeyCount);

    public async ValueTask<IReadOnlyList<DeliveredKey>> TakeAsMasterAsync(string masterSaeId, IReadOnlyList<string> slaveSaeIds, int number,
        IHybridKeys? hybrid, CancellationToken stopping)
    {
        if (slaveSaeIds.Count != 1)
            throw KeyDeliveryException.BadParameter("additional_slave_SAE_IDs", "a link's KME reserves a key for one slave SAE (no key multicast)");
        string slaveSaeId = slaveSaeIds[0];
        if (!_notifier.IsPeerReachable)
            throw KeyDeliveryException.Unavailable("the KME link to the peer KME is down (it reconnects by itself); no key was taken, try again");

        IReadOnlyList<DeliveredKey> keys;
        long start = Stopwatch.GetTimestamp();
        try
        {
            keys = await _pool.TakeAsMasterAsync(masterSaeId, slaveSaeId, number);
            _metrics?.RecordPool(enc: true, Stopwatch.GetElapsedTime(start));
        }
        catch (KeyPoolExhaustedException e)
        {
            throw KeyDeliveryException.Unavailable($"{e.Requested} keys requested, {e.Available} available; keys are being replenished",
                new Dictionary<string, string> { ["requested"] = e.Requested.ToString(), ["available"] = e.Available.ToString() });
        }

        try
        {
            var reserved = new ReservedKey[keys.Count];
            for (int i = 0; i < reserved.Length; i++) reserved[i] = new ReservedKey(keys[i].Id, keys[i].BlockId);
            start = Stopwatch.GetTimestamp();
            if (hybrid is null)
            {
                await _notifier.NotifyAsync(masterSaeId, slaveSaeId, reserved, stopping);
            }
            else
            {
                // One encapsulation per request; the peer answers only once it holds the ciphertext durably.
                using var encapsulation = hybrid.Encapsulate();
                await _notifier.NotifyHybridAsync(masterSaeId, slaveSaeId, reserved, encapsulation.Ciphertext, stopping);
                hybrid.CombineAtMaster(keys, encapsulation, masterSaeId, slaveSaeId);
            }
            _metrics?.RecordReservation(Stopwatch.GetElapsedTime(start));
            return keys;
        }
        catch (Exception e)
        {
            // The keys are taken but the peer may not know them: never hand them out.
            // A durable pool keeps the reservation in its outbox; the link delivers it later and it expires unused.
            foreach (var key in keys)
                System.Security.Cryptography.CryptographicOperations.ZeroMemory(key.Key);
            LogNotifyFailed(e.Message, masterSaeId, slaveSaeId, keys.Count);
            throw KeyDeliveryException.Unavailable("the reservation could not be confirmed by the peer KME; these keys are not handed out, try again");
        }
    }

    public async ValueTask<IReadOnlyList<DeliveredKey>> TakeAsSlaveAsync(string masterSaeId, string slaveSaeId, IReadOnlyList<Guid> keyIds)
    {
        IReadOnlyList<DeliveredKey> keys;
        long start = Stopwatch.GetTimestamp();
        try
        {
            keys = await _pool.TakeAsSlaveAsync(masterSaeId, slaveSaeId, keyIds);
            _metrics?.RecordPool(enc: false, Stopwatch.GetElapsedTime(start));
        }
        catch (KeyNotFoundException e)
        {
            throw KeyDeliveryException.BadParameter("key_IDs",
                $"key_ID(s) not available to slave SAE '{slaveSaeId}' from master SAE '{masterSaeId}': unknown, already delivered or reserved for another SAE ({e.Message})");
        }
        try
        {
            // Keys the master reserved as hybrid (their ciphertext came with the reservation) become the same hybrid keys here.
            if (_options.HybridKeys is { } hybrid)
                await hybrid.CombineAtSlaveAsync(keys, masterSaeId, slaveSaeId);
            return keys;
        }
        catch
        {
            foreach (var key in keys)
                System.Security.Cryptography.CryptographicOperations.ZeroMemory(key.Key);
            throw;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reservation of {KeyCount} keys (master SAE {MasterSaeId}, slave SAE {SlaveSaeId}) was not confirmed by the peer KME ({Reason}); the keys are not handed out")]
    private partial void LogNotifyFailed(string reason, string masterSaeId, string slaveSaeId, int keyCount);
}
