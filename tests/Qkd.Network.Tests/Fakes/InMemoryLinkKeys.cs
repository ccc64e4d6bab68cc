using System.Security.Cryptography;
using Qkd.Network.Links;

namespace Qkd.Network.Tests.Fakes;

/// <summary>
/// The key of one link held in memory for both ends, in 32-byte units with IDs, each unit owned by the end that may
/// send with it (as a KME pool splits keys between master ends). A unit is consumed once at each end; naming a
/// consumed unit again is refused (what a replay meets). Survives a node's restart, as a durable pool would.
/// </summary>
public sealed class InMemoryLinkKeys
{
    public const int UnitBytes = 32;
    private readonly Lock _lock = new();
    private readonly Dictionary<Guid, Unit> _units = [];
    private readonly Dictionary<string, Queue<Guid>> _fresh = new(StringComparer.Ordinal);

    public InMemoryLinkKeys(string a, string b)
    {
        NodeA = a;
        NodeB = b;
        _fresh[a] = new();
        _fresh[b] = new();
        EndA = new End(this, a, b);
        EndB = new End(this, b, a);
    }

    public string NodeA { get; }
    public string NodeB { get; }
    public ILinkKeySource EndA { get; }
    public ILinkKeySource EndB { get; }

    public ILinkKeySource EndOf(string node) => node == NodeA ? EndA : node == NodeB ? EndB : throw new ArgumentException(node);

    /// <summary>Adds <paramref name="bytes"/> of key that <paramref name="sender"/> may send with (rounded up to units).</summary>
    public void Add(string sender, long bytes)
    {
        lock (_lock)
            for (long i = 0; i < (bytes + UnitBytes - 1) / UnitBytes; i++)
            {
                var id = Guid.NewGuid();
                _units[id] = new Unit(sender, RandomNumberGenerator.GetBytes(UnitBytes));
                _fresh[sender].Enqueue(id);
            }
    }

    /// <summary>Drops every unit <paramref name="sender"/> has not sent with yet (the link ran dry).</summary>
    public void Drain(string sender)
    {
        lock (_lock) _fresh[sender].Clear();
    }

    public long Available(string sender) { lock (_lock) return _fresh[sender].Count * (long)UnitBytes; }

    /// <summary>Units consumed at each end (each unit is consumed by its sender and, if the message arrived, by the receiver).</summary>
    public (long BySender, long ByReceiver) Consumed()
    {
        lock (_lock) return (_units.Values.Count(u => u.SenderUsed), _units.Values.Count(u => u.ReceiverUsed));
    }

    private LinkKey TakeFresh(string self, string neighbour, int bytes)
    {
        lock (_lock)
        {
            int units = (bytes + UnitBytes - 1) / UnitBytes;
            var queue = _fresh[self];
            if (queue.Count < units) throw new LinkKeyExhaustedException(neighbour, bytes, queue.Count * (long)UnitBytes);
            var ids = new Guid[units];
            var material = new byte[bytes];
            for (int i = 0; i < units; i++)
            {
                ids[i] = queue.Dequeue();
                var u = _units[ids[i]];
                u.SenderUsed = true;
                u.Bytes.AsSpan(0, Math.Min(UnitBytes, bytes - i * UnitBytes)).CopyTo(material.AsSpan(i * UnitBytes));
            }
            return new LinkKey(ids, material) { BytesConsumed = units * UnitBytes };
        }
    }

    private LinkKey TakeNamed(string self, string neighbour, IReadOnlyList<Guid> ids, int bytes)
    {
        lock (_lock)
        {
            if (ids.Count != (bytes + UnitBytes - 1) / UnitBytes) throw new LinkKeyUnavailableException(neighbour, "wrong unit count");
            foreach (var id in ids)
                if (!_units.TryGetValue(id, out var u) || u.Owner != neighbour || u.ReceiverUsed) throw new LinkKeyUnavailableException(neighbour, "unknown or consumed");
            if (ids.Distinct().Count() != ids.Count) throw new LinkKeyUnavailableException(neighbour, "a unit named twice");
            var material = new byte[bytes];
            for (int i = 0; i < ids.Count; i++)
            {
                var u = _units[ids[i]];
                u.ReceiverUsed = true;
                // A unit the sender never took (a forger guessed its ID) is gone for the sender too.
                if (!u.SenderUsed && _fresh[neighbour].Contains(ids[i]))
                {
                    u.SenderUsed = true;
                    var keep = _fresh[neighbour].Where(x => x != ids[i]).ToList();
                    _fresh[neighbour].Clear();
                    foreach (var k in keep) _fresh[neighbour].Enqueue(k);
                }
                u.Bytes.AsSpan(0, Math.Min(UnitBytes, bytes - i * UnitBytes)).CopyTo(material.AsSpan(i * UnitBytes));
            }
            return new LinkKey(ids, material) { BytesConsumed = ids.Count * UnitBytes };
        }
    }

    private sealed class Unit(string owner, byte[] bytes)
    {
        public string Owner { get; } = owner;
        public byte[] Bytes { get; } = bytes;
        public bool SenderUsed { get; set; }
        public bool ReceiverUsed { get; set; }
    }

    private sealed class End(InMemoryLinkKeys keys, string self, string neighbour) : ILinkKeySource
    {
        public string NeighbourId => neighbour;
        public long AvailableBytes => keys.Available(self);
        public double KeyRateBytesPerSecond => 0;
        public ValueTask<LinkKey> TakeAsync(int bytes, CancellationToken cancellationToken = default) => new(keys.TakeFresh(self, neighbour, bytes));
        public ValueTask<LinkKey> TakeAsync(IReadOnlyList<Guid> keyIds, int bytes, CancellationToken cancellationToken = default) =>
            new(keys.TakeNamed(self, neighbour, keyIds, bytes));
    }
}
