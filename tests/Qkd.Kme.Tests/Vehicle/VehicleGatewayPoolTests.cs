using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using Qkd.Core.Bits;
using Qkd.Kme.Pool;
using Qkd.Kme.Tests.Delivery;
using Qkd.Kme.Vehicle;
using Qkd.Pqc.Vehicle;

namespace Qkd.Kme.Tests.Vehicle;

/// <summary>
/// A vehicle's key module fetching keys over the post-quantum channel from a gateway backed by this KME's durable pool
/// (SQLite), with the reservations reaching the peer KME's pool: keys leave the pool once, the gateway's copies are
/// zeroised, and the SAE at the peer can redeem the very keys the vehicle holds.
/// </summary>
public sealed class VehicleGatewayPoolTests : IAsyncDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly string _dir = Directory.CreateTempSubdirectory("qkd-vehicle-pool-").FullName;
    private readonly IKeyPool _alice, _bob;

    public VehicleGatewayPoolTests()
    {
        var pools = TestPools.Sqlite(_dir);
        _alice = pools(KmeRole.Alice);
        _bob = pools(KmeRole.Bob);
        var random = new Random(9);
        for (long b = 0; b < 4; b++)
        {
            byte[] bytes = new byte[16 * 32];
            random.NextBytes(bytes);
            _alice.Accept(b, PackedBits.FromBytes(bytes, bytes.Length * 8L));
            _bob.Accept(b, PackedBits.FromBytes(bytes, bytes.Length * 8L));
        }
    }

    public ValueTask DisposeAsync()
    {
        _alice.Dispose();
        _bob.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
        return ValueTask.CompletedTask;
    }

    /// <summary>Keeps a reference to every key array the pool handed the gateway, to check they were zeroised.</summary>
    private sealed class Watching(IVehicleKeySource inner) : IVehicleKeySource
    {
        public List<byte[]> Handed { get; } = [];

        public int KeyBytes => inner.KeyBytes;

        public async ValueTask<IReadOnlyList<VehicleKey>> TakeForVehicleAsync(string vehicleId, int count, CancellationToken cancellationToken)
        {
            var keys = await inner.TakeForVehicleAsync(vehicleId, count, cancellationToken);
            lock (Handed) Handed.AddRange(keys.Select(k => k.Key));
            return keys;
        }

        public async ValueTask<VehicleKey> TakeSeedAsync(string vehicleId, CancellationToken cancellationToken)
        {
            var key = await inner.TakeSeedAsync(vehicleId, cancellationToken);
            lock (Handed) Handed.Add(key.Key);
            return key;
        }
    }

    [Fact]
    public async Task A_vehicle_fetches_pool_keys_over_the_pqc_channel_each_once_and_the_peer_sae_can_redeem_them()
    {
        var registry = new VehicleRegistry(Path.Combine(_dir, "vehicles"), RandomNumberGenerator.GetBytes(32));
        string credentials = Path.Combine(_dir, "truck-7.vehicle.json");
        VehicleEnrolment.Save(VehicleEnrolment.Enrol(registry, "gw-alice", "truck-7"), credentials);
        var source = new Watching(new PoolVehicleKeySource(_alice, new PoolReservationNotifier(_bob), "sae-bob-1"));
        await using var gateway = new VehicleGateway(new IPEndPoint(IPAddress.Loopback, 0), registry, "gw-alice", source, NullLogger.Instance);
        gateway.Start();
        long available = _alice.AvailableAsMaster;

        var fetched = new List<VehicleKey>();
        await using (var module = await VehicleKeyModule.ConnectAsync(credentials, "127.0.0.1", gateway.LocalEndpoint.Port, Ct))
        {
            Assert.True(module.SeedRenewed);
            fetched.AddRange(await module.FetchAsync(10, Ct));
            fetched.AddRange(await module.FetchAsync(5, Ct));
        }
        Assert.Equal(15, fetched.Select(k => k.Id).Distinct().Count());
        Assert.Equal(available - 16, _alice.AvailableAsMaster);              // 15 keys and the new seed, taken once
        Assert.All(source.Handed, key => Assert.True(key.All(b => b == 0), "a key the gateway sent was not zeroised"));

        // The SAE at the peer redeems the vehicle's keys (master SAE: the vehicle), byte for byte, once.
        var ids = fetched.Select(k => k.Id).ToList();
        var atPeer = await _bob.TakeAsSlaveAsync("truck-7", "sae-bob-1", ids);
        Assert.Equal(fetched.Select(k => k.Key), atPeer.Select(k => k.Key));
        await Assert.ThrowsAsync<KeyNotFoundException>(async () => await _bob.TakeAsSlaveAsync("truck-7", "sae-bob-1", ids));

        // Never delivered twice: a second vehicle session gets other keys.
        await using var again = await VehicleKeyModule.ConnectAsync(credentials, "127.0.0.1", gateway.LocalEndpoint.Port, Ct);
        var more = await again.FetchAsync(8, Ct);
        Assert.Empty(more.Select(k => k.Id).Intersect(ids));
        Assert.Equal(23, gateway.Counters.KeysDelivered);
    }

    [Fact]
    public async Task With_the_peer_unreachable_the_vehicle_is_told_and_no_key_leaves_the_pool()
    {
        var registry = new VehicleRegistry(Path.Combine(_dir, "vehicles"), RandomNumberGenerator.GetBytes(32));
        string credentials = Path.Combine(_dir, "drone-2.vehicle.json");
        VehicleEnrolment.Save(VehicleEnrolment.Enrol(registry, "gw-alice", "drone-2"), credentials);
        var source = new PoolVehicleKeySource(_alice, new LinkDownNotifier(), "sae-bob-1");
        await using var gateway = new VehicleGateway(new IPEndPoint(IPAddress.Loopback, 0), registry, "gw-alice", source, NullLogger.Instance);
        gateway.Start();
        long available = _alice.AvailableAsMaster;
        var seedBefore = VehicleEnrolment.Load(credentials).SeedId;
        await using var module = await VehicleKeyModule.ConnectAsync(credentials, "127.0.0.1", gateway.LocalEndpoint.Port, Ct);
        Assert.False(module.SeedRenewed);
        Assert.Equal(seedBefore, VehicleEnrolment.Load(credentials).SeedId);
        var e = await Assert.ThrowsAsync<VehicleKeysUnavailableException>(() => module.FetchAsync(3, Ct));
        Assert.Contains("KME link", e.Message);
        Assert.Equal(available, _alice.AvailableAsMaster);
    }
}
