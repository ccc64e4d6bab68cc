namespace Qkd.Cli.Commands;

/// <summary>`qkd keys status --json`: one node's key pool (counts and limits, never key material).</summary>
/// <param name="ReservedForSlaveSaes">Keys reserved for each slave SAE (by SAE ID) and not yet fetched with dec_keys.</param>
/// <param name="ReservationsAwaitingPeer">This KME's enc_keys reservations the peer KME has not confirmed yet (the outbox).</param>
/// <param name="KeysExpired">Keys reserved for a slave SAE that did not redeem them in time, deleted.</param>
public sealed record KeyPoolStatus(string Link, string Role, string? Kme, string PeerKme, int KeySizeBits, long AvailableAsMaster,
    long HeldForPeer, long MaxKeyCount, IReadOnlyDictionary<string, long> ReservedForSlaveSaes, int Blocks,
    long ReservationsAwaitingPeer = 0, long KeysExpired = 0);
