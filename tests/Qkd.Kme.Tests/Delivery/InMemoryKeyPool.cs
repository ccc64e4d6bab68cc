using System.Security.Cryptography;
using Qkd.Core.Bits;
using Qkd.Kme.Pool;

namespace Qkd.Kme.Tests.Delivery;

/// <summary>
/// A test-only <see cref="IKeyPool"/> in memory that follows the contract's rules (key split by
/// <see cref="KeyIds.MasterOf"/>, IDs from <see cref="KeyIds.For"/>, once-only delivery, all-or-nothing), so the
/// server can be tested and benchmarked without the durable store.
/// </summary>
public sealed class InMemoryKeyPool(KmeRole role, string linkId, int keySizeBits, long maxKeyCount = 1_000_000) : IKeyPool
{
    private readonly Lock _lock = new();
    private readonly Queue<(Guid Id, byte[] Key)> _asMaster = new();
    private readonly Dictionary<Guid, PeerKey> _forPeer = [];

    private sealed class PeerKey(byte[] key)
    {
        public byte[] Key { get; } = key;
        public string? Master { get; set; }
        public string? Slave { get; set; }
    }

    public KmeRole Role => role;

    public int KeySizeBits => keySizeBits;

    public long MaxKeyCount => maxKeyCount;

    public long DroppedKeys { get; private set; }

    public long AvailableAsMaster { get { lock (_lock) return _asMaster.Count; } }

    public long HeldForPeer { get { lock (_lock) return _forPeer.Count; } }

    public void Accept(long blockId, PackedBits key)
    {
        int units = (int)(key.Length / keySizeBits);
        lock (_lock)
        {
            for (int i = 0; i < units; i++)
            {
                if (_asMaster.Count + _forPeer.Count >= maxKeyCount)
                {
                    DroppedKeys++;
                    continue;
                }
                var slice = key.Slice((long)i * keySizeBits, keySizeBits);
                byte[] bytes = slice.ToBytes();
                slice.Clear();
                Guid id = KeyIds.For(linkId, blockId, i);
                if (KeyIds.MasterOf(i) == role) _asMaster.Enqueue((id, bytes));
                else _forPeer.Add(id, new PeerKey(bytes));
            }
        }
    }

    public IReadOnlyList<DeliveredKey> TakeAsMaster(string masterSaeId, string slaveSaeId, int count)
    {
        lock (_lock)
        {
            if (_asMaster.Count < count)
                throw new KeyPoolExhaustedException(count, _asMaster.Count);
            var keys = new DeliveredKey[count];
            for (int i = 0; i < count; i++)
            {
                var (id, bytes) = _asMaster.Dequeue();
                keys[i] = new DeliveredKey(id, bytes); // handed over: the caller zeroises
            }
            return keys;
        }
    }

    public void RecordPeerReservation(string masterSaeId, string slaveSaeId, IReadOnlyList<Guid> keyIds)
    {
        lock (_lock)
        {
            foreach (var id in keyIds)
                if (!_forPeer.TryGetValue(id, out var k) || k.Master is not null)
                    throw new ReservationRefusedException($"Key {id} is not held for the peer or is already reserved.");
            foreach (var id in keyIds)
            {
                _forPeer[id].Master = masterSaeId;
                _forPeer[id].Slave = slaveSaeId;
            }
        }
    }

    public IReadOnlyList<DeliveredKey> TakeAsSlave(string masterSaeId, string slaveSaeId, IReadOnlyList<Guid> keyIds)
    {
        lock (_lock)
        {
            foreach (var id in keyIds)
                if (!_forPeer.TryGetValue(id, out var k) || k.Master != masterSaeId || k.Slave != slaveSaeId)
                    throw new KeyNotFoundException($"Key {id} is unknown, delivered, or not reserved for this SAE pair.");
            var keys = new DeliveredKey[keyIds.Count];
            for (int i = 0; i < keys.Length; i++)
            {
                _forPeer.Remove(keyIds[i], out var k);
                keys[i] = new DeliveredKey(keyIds[i], k!.Key);
            }
            return keys;
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var (_, key) in _asMaster) CryptographicOperations.ZeroMemory(key);
            foreach (var k in _forPeer.Values) CryptographicOperations.ZeroMemory(k.Key);
            _asMaster.Clear();
            _forPeer.Clear();
        }
    }
}
