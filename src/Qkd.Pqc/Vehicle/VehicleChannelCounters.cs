using System.Diagnostics.Metrics;

namespace Qkd.Pqc.Vehicle;

/// <summary>
/// What one end of the vehicle channel refused and delivered, as properties and as System.Diagnostics.Metrics
/// instruments on meter <c>Qkd.Pqc.Vehicle</c> (<c>qkd.vehicle.*</c>, tagged with the end: gateway or vehicle).
/// </summary>
public sealed class VehicleChannelCounters
{
    private static readonly Meter Meter = new("Qkd.Pqc.Vehicle");
    private static readonly Counter<long> Sessions = Meter.CreateCounter<long>("qkd.vehicle.sessions", description: "Vehicle channel sessions that completed the handshake");
    private static readonly Counter<long> HandshakesRefused = Meter.CreateCounter<long>("qkd.vehicle.handshakes_refused", description: "Handshakes refused: bad signature, unknown vehicle or seed, malformed");
    private static readonly Counter<long> Forged = Meter.CreateCounter<long>("qkd.vehicle.records_forged", description: "Records that failed authentication or came out of order");
    private static readonly Counter<long> Replayed = Meter.CreateCounter<long>("qkd.vehicle.records_replayed", description: "Records whose sequence number was already seen");
    private static readonly Counter<long> Keys = Meter.CreateCounter<long>("qkd.vehicle.keys_delivered", description: "Keys delivered over the vehicle channel");

    private readonly KeyValuePair<string, object?> _end;
    private long _sessions, _handshakesRefused, _forged, _replayed, _keys;

    public VehicleChannelCounters(string end) => _end = new("end", end);

    public long SessionsOpened => Interlocked.Read(ref _sessions);

    public long HandshakesRefusedCount => Interlocked.Read(ref _handshakesRefused);

    public long RecordsForged => Interlocked.Read(ref _forged);

    public long RecordsReplayed => Interlocked.Read(ref _replayed);

    public long KeysDelivered => Interlocked.Read(ref _keys);

    internal void CountSession() { Interlocked.Increment(ref _sessions); Sessions.Add(1, _end); }

    internal void CountHandshakeRefused() { Interlocked.Increment(ref _handshakesRefused); HandshakesRefused.Add(1, _end); }

    internal void CountForged() { Interlocked.Increment(ref _forged); Forged.Add(1, _end); }

    internal void CountReplayed() { Interlocked.Increment(ref _replayed); Replayed.Add(1, _end); }

    internal void CountKeys(int count) { Interlocked.Add(ref _keys, count); Keys.Add(count, _end); }
}
