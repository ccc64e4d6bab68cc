using System.Collections.Concurrent;
using System.Security.Cryptography;
using Qkd.Pqc.Vehicle;

namespace Qkd.Pqc.Tests.Vehicle;

/// <summary>A key source in memory for the channel's tests (the SQLite pool behind the gateway is tested in Qkd.Kme.Tests).</summary>
internal sealed class InMemoryKeySource(int keys) : IVehicleKeySource
{
    private readonly ConcurrentQueue<VehicleKey> _keys = new(Enumerable.Range(0, keys).Select(_ => new VehicleKey(Guid.NewGuid(), RandomNumberGenerator.GetBytes(32))));

    public ConcurrentBag<Guid> Taken { get; } = [];

    /// <summary>Copies of every key handed out, by ID, to compare with what the vehicle got.</summary>
    public ConcurrentDictionary<Guid, byte[]> Copies { get; } = new();

    public int KeyBytes => 32;

    public int Remaining => _keys.Count;

    public ValueTask<IReadOnlyList<VehicleKey>> TakeForVehicleAsync(string vehicleId, int count, CancellationToken cancellationToken)
    {
        if (_keys.Count < count) throw new VehicleKeysUnavailableException($"{count} keys asked, {_keys.Count} available");
        var taken = new List<VehicleKey>();
        for (int i = 0; i < count && _keys.TryDequeue(out var key); i++) taken.Add(Hand(key));
        return new(taken);
    }

    public ValueTask<VehicleKey> TakeSeedAsync(string vehicleId, CancellationToken cancellationToken) =>
        _keys.TryDequeue(out var key) ? new(Hand(key)) : throw new VehicleKeysUnavailableException("no key for a seed");

    private VehicleKey Hand(VehicleKey key)
    {
        Taken.Add(key.Id);
        Copies[key.Id] = (byte[])key.Key.Clone();
        return key;
    }
}
