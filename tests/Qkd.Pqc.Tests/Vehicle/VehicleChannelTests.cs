using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using Qkd.Pqc.Algorithms;
using Qkd.Pqc.Vehicle;

namespace Qkd.Pqc.Tests.Vehicle;

/// <summary>
/// A vehicle key module and a gateway over real TCP on loopback: mutual ML-DSA authentication against the pinned keys,
/// the session seed renewed from the key source, keys fetched, and every tampering refused and counted.
/// </summary>
public sealed class VehicleChannelTests : IAsyncLifetime
{
    private static readonly TimeSpan GiveUp = TimeSpan.FromSeconds(120);
    private readonly string _dir = Directory.CreateTempSubdirectory("qkd-vehicle-").FullName;
    private readonly InMemoryKeySource _source = new(64);
    private VehicleRegistry _registry = null!;
    private VehicleGateway _gateway = null!;
    private string _credentials = null!;

    public ValueTask InitializeAsync()
    {
        _registry = new VehicleRegistry(Path.Combine(_dir, "registry"), RandomNumberGenerator.GetBytes(32));
        _credentials = Path.Combine(_dir, "truck-7.vehicle.json");
        VehicleEnrolment.Save(VehicleEnrolment.Enrol(_registry, "gw-hefei", "truck-7"), _credentials);
        _gateway = new VehicleGateway(new IPEndPoint(IPAddress.Loopback, 0), _registry, "gw-hefei", _source, NullLogger.Instance);
        _gateway.Start();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await _gateway.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private Task<VehicleKeyModule> ConnectAsync(string? credentials = null) =>
        VehicleKeyModule.ConnectAsync(credentials ?? _credentials, "127.0.0.1", _gateway.LocalEndpoint.Port, new CancellationTokenSource(GiveUp).Token);

    [Fact]
    public async Task A_vehicle_fetches_keys_and_its_seed_moves_to_a_pool_key()
    {
        var before = VehicleEnrolment.Load(_credentials);
        await using (var module = await ConnectAsync())
        {
            Assert.True(module.SeedRenewed);
            var keys = await module.FetchAsync(5, new CancellationTokenSource(GiveUp).Token);
            Assert.Equal(5, keys.Count);
            foreach (var key in keys) Assert.Equal(_source.Copies[key.Id], key.Key);
            Assert.Equal(5, keys.Select(k => k.Id).Distinct().Count());
            var more = await module.FetchAsync(3, new CancellationTokenSource(GiveUp).Token);
            Assert.Empty(more.Select(k => k.Id).Intersect(keys.Select(k => k.Id)));
        }
        var after = VehicleEnrolment.Load(_credentials);
        Assert.NotEqual(before.SeedId, after.SeedId);
        Assert.Contains(after.SeedId, _source.Taken);                         // the new seed is a key from the pool
        Assert.Equal(_source.Copies[after.SeedId], Convert.FromBase64String(after.Seed));
        Assert.Equal([after.SeedId], _registry.SeedIds("truck-7"));          // acknowledged: the old seed is gone
        Assert.Equal(1 + 5 + 3, _source.Taken.Count);
        Assert.Equal(8, _gateway.Counters.KeysDelivered);

        // The next session runs on the renewed seed.
        await using var again = await ConnectAsync();
        Assert.Single(await again.FetchAsync(1, new CancellationTokenSource(GiveUp).Token));
        Assert.Equal(2, _gateway.Counters.SessionsOpened);
    }

    [Fact]
    public void A_lost_seed_acknowledgement_leaves_both_seeds_usable_and_the_next_hello_settles_it()
    {
        var current = VehicleEnrolment.Load(_credentials).SeedId;
        var next = Guid.NewGuid();
        _registry.AddSeed("truck-7", next, RandomNumberGenerator.GetBytes(32));
        Assert.Equal([current, next], _registry.SeedIds("truck-7"));
        // The vehicle never stored the new seed (crash before its file was replaced): its hello names the current one.
        byte[]? seed = _registry.UseSeed("truck-7", current);
        Assert.NotNull(seed);
        Assert.Equal(Convert.FromBase64String(VehicleEnrolment.Load(_credentials).Seed), seed);
        Assert.Equal([current], _registry.SeedIds("truck-7"));
        // It did store it, but the acknowledgement was lost: its hello names the new one, and the old one goes.
        _registry.AddSeed("truck-7", next, RandomNumberGenerator.GetBytes(32));
        Assert.NotNull(_registry.UseSeed("truck-7", next));
        Assert.Equal([next], _registry.SeedIds("truck-7"));
        Assert.Null(_registry.UseSeed("truck-7", current));
    }

    [Fact]
    public void Registry_secrets_do_not_open_under_another_storage_key()
    {
        var other = new VehicleRegistry(_registry.DirectoryPath, RandomNumberGenerator.GetBytes(32));
        var e = Assert.Throws<VehicleProtocolException>(() => other.UseSeed("truck-7", VehicleEnrolment.Load(_credentials).SeedId));
        Assert.Contains("storage key", e.Message);
        Assert.Throws<ArgumentException>(() => _registry.Register("../etc", new byte[10], Guid.NewGuid(), new byte[32]));
    }

    [Fact]
    public async Task A_replayed_record_is_refused_counted_and_ends_the_session()
    {
        await using var module = await ConnectAsync();
        byte[] request = [0x12, 0, 1];
        byte[] record = module.SealForTest(request);
        await WriteFrameAsync(module.Stream, record);
        await WriteFrameAsync(module.Stream, record);                        // the same sequence number again
        // The first is answered; then the gateway drops the session.
        await AssertSessionEndsAsync(module.Stream);
        Assert.Equal(1, _gateway.Counters.RecordsReplayed);
        Assert.Equal(0, _gateway.Counters.RecordsForged);
        Assert.Equal(1, _gateway.Counters.KeysDelivered);
    }

    [Fact]
    public async Task A_forged_record_is_refused_counted_and_serves_nothing()
    {
        await using var module = await ConnectAsync();
        int takenBefore = _source.Taken.Count;
        byte[] record = module.SealForTest([0x12, 0, 4]);
        record[9] ^= 0x01;                                                    // one ciphertext bit
        await WriteFrameAsync(module.Stream, record);
        await AssertSessionEndsAsync(module.Stream);
        Assert.Equal(1, _gateway.Counters.RecordsForged);
        Assert.Equal(takenBefore, _source.Taken.Count);
        Assert.Equal(0, _gateway.Counters.KeysDelivered);
    }

    [Fact]
    public async Task A_gateway_whose_key_is_not_the_pinned_one_is_refused_by_the_vehicle()
    {
        var credentials = VehicleEnrolment.Load(_credentials);
        using var impostor = PostQuantum.MlDsa65.GenerateKeyPair();
        string wrong = Path.Combine(_dir, "wrong-gateway.vehicle.json");
        VehicleEnrolment.Save(credentials with { GatewayPublicKey = Convert.ToBase64String(impostor.PublicKey) }, wrong);
        var e = await Assert.ThrowsAsync<VehicleProtocolException>(() => ConnectAsync(wrong));
        Assert.Contains("pinned", e.Message);
        Assert.Equal(credentials.SeedId, VehicleEnrolment.Load(wrong).SeedId);  // nothing stored from that gateway
    }

    [Fact]
    public async Task A_vehicle_whose_key_is_not_the_enrolled_one_is_refused_by_the_gateway()
    {
        var credentials = VehicleEnrolment.Load(_credentials);
        using var impostor = PostQuantum.MlDsa65.GenerateKeyPair();
        string wrong = Path.Combine(_dir, "impostor.vehicle.json");
        VehicleEnrolment.Save(credentials with { SigningSeed = Convert.ToBase64String(impostor.PrivateSeed) }, wrong);
        var e = await Assert.ThrowsAsync<VehicleProtocolException>(() => ConnectAsync(wrong));
        Assert.Contains("does not verify under its enrolled key", e.Message);
        Assert.Equal(1, _gateway.Counters.HandshakesRefusedCount);
        Assert.Empty(_source.Taken);

        string unknown = Path.Combine(_dir, "unknown.vehicle.json");
        VehicleEnrolment.Save(credentials with { VehicleId = "drone-9" }, unknown);
        e = await Assert.ThrowsAsync<VehicleProtocolException>(() => ConnectAsync(unknown));
        Assert.Contains("not enrolled", e.Message);
    }

    [Fact]
    public async Task A_short_pool_is_an_error_the_vehicle_sees_and_nothing_is_taken()
    {
        await using var module = await ConnectAsync();
        int remaining = _source.Remaining;
        var e = await Assert.ThrowsAsync<VehicleKeysUnavailableException>(() => module.FetchAsync(remaining + 1, new CancellationTokenSource(GiveUp).Token));
        Assert.Contains("available", e.Message);
        Assert.Equal(remaining, _source.Remaining);
        Assert.Equal(2, (await module.FetchAsync(2, new CancellationTokenSource(GiveUp).Token)).Count);
    }

    private static async Task WriteFrameAsync(Stream stream, byte[] body)
    {
        byte[] header = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(header, (uint)body.Length);
        await stream.WriteAsync(header);
        await stream.WriteAsync(body);
        await stream.FlushAsync();
    }

    /// <summary>Reads whatever the gateway still sends until it closes the connection (a reset counts as closed).</summary>
    private static async Task AssertSessionEndsAsync(Stream stream)
    {
        using var giveUp = new CancellationTokenSource(GiveUp);
        byte[] buffer = new byte[8192];
        try
        {
            while (await stream.ReadAsync(buffer, giveUp.Token) > 0) { }
        }
        catch (IOException)
        {
        }
    }
}
