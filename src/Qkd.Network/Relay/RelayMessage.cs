namespace Qkd.Network.Relay;

/// <summary>The relay messages (see the README's "Relay protocol").</summary>
public enum RelayMessageKind : byte
{
    /// <summary>Origin → destination, hop by hop: the keys, one-time-pad encrypted with each hop's link key.</summary>
    Forward = 1,

    /// <summary>Destination → origin: the keys are stored (durably) for the slave SAEs.</summary>
    Confirm = 2,

    /// <summary>Towards the origin (a hop that cannot go on) or the destination (the origin gave up): roll back.</summary>
    Abort = 3,

    /// <summary>Destination → origin: the abort is recorded (the relay's keys are gone there, and a late Forward is refused).</summary>
    AbortAck = 4,
}

/// <summary>Why a relay was rolled back.</summary>
public enum AbortReason : byte
{
    None = 0,
    NoRoute = 1,
    LinkKeyExhausted = 2,
    Timeout = 3,
    NodeRestarted = 4,
    Refused = 5,
    Cancelled = 6,
    OtherLegFailed = 7,
}

/// <summary>
/// One relay message as it crosses one hop. <see cref="Payload"/> holds the keys of a Forward one-time-pad encrypted
/// with this hop's link key, never in clear; <see cref="LinkKeyIds"/> name the link key of this hop (pad and
/// authentication key) and <see cref="Tag"/> is the hop's Wegman-Carter tag. Equality compares every field.
/// </summary>
public sealed record RelayMessage
{
    public required RelayMessageKind Kind { get; init; }

    public required Guid RelayId { get; init; }

    /// <summary>The node whose KME generated the keys (where the master SAE is).</summary>
    public required string Origin { get; init; }

    /// <summary>The node holding the slave SAEs (the Forward's end).</summary>
    public required string Destination { get; init; }

    /// <summary>The node this message is addressed to: the destination for a Forward, the origin for Confirm and AbortAck, either for an Abort.</summary>
    public required string To { get; init; }

    /// <summary>Hops this message may still take: a loop in inconsistent routing tables ends it.</summary>
    public byte HopsLeft { get; init; } = 32;

    // Forward only.
    public string MasterSae { get; init; } = "";

    public IReadOnlyList<string> SlaveSaes { get; init; } = [];

    public int KeySizeBytes { get; init; }

    /// <summary>The relayed keys' IDs (the ETSI key_IDs both SAEs see).</summary>
    public IReadOnlyList<Guid> KeyIds { get; init; } = [];

    /// <summary>The route from origin to destination as chosen so far (a hop that reroutes replaces the rest).</summary>
    public IReadOnlyList<string> Path { get; init; } = [];

    /// <summary>Index in <see cref="Path"/> of the node receiving this message.</summary>
    public int PathIndex { get; init; }

    /// <summary>Forward: the keys, concatenated, XOR this hop's pad. Empty for other kinds.</summary>
    public byte[] Payload { get; init; } = [];

    // Abort only.
    public AbortReason Reason { get; init; }

    // Per hop.
    public IReadOnlyList<Guid> LinkKeyIds { get; init; } = [];

    public byte[] Tag { get; init; } = new byte[RelayCodec.TagBytes];

    public bool Equals(RelayMessage? other) =>
        other is not null && Kind == other.Kind && RelayId == other.RelayId && Origin == other.Origin
        && Destination == other.Destination && To == other.To && HopsLeft == other.HopsLeft && MasterSae == other.MasterSae
        && SlaveSaes.SequenceEqual(other.SlaveSaes) && KeySizeBytes == other.KeySizeBytes && KeyIds.SequenceEqual(other.KeyIds)
        && Path.SequenceEqual(other.Path) && PathIndex == other.PathIndex && Payload.AsSpan().SequenceEqual(other.Payload)
        && Reason == other.Reason && LinkKeyIds.SequenceEqual(other.LinkKeyIds) && Tag.AsSpan().SequenceEqual(other.Tag);

    public override int GetHashCode() => HashCode.Combine(Kind, RelayId, Origin, Destination, PathIndex, Payload.Length);

    /// <summary>For logs: never the payload.</summary>
    public override string ToString() => $"{Kind} relay {RelayId} {Origin}→{Destination} ({KeyIds.Count} keys)";
}
