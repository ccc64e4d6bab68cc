namespace Qkd.Network.Relay;

/// <summary>A relay leg at its origin (durable).</summary>
public enum OriginLegState
{
    /// <summary>The Forward is on its way; the keys are in the origin's memory only, not yet handed out.</summary>
    Sent = 1,

    /// <summary>The destination stored the keys; waiting for the group's other legs.</summary>
    Confirmed = 2,

    /// <summary>Every leg confirmed: the keys were handed to the master SAE. Final.</summary>
    Committed = 3,

    /// <summary>Given up: an Abort goes to the destination until it acknowledges.</summary>
    Aborting = 4,

    /// <summary>The destination acknowledged the abort. Final.</summary>
    Aborted = 5,
}

/// <summary>A relay at its destination (durable).</summary>
public enum DestinationState
{
    /// <summary>The keys are stored for the slave SAEs' dec_keys.</summary>
    Stored = 1,

    /// <summary>Rolled back (or refused): the keys are gone and a late Forward of this relay is refused.</summary>
    Aborted = 2,

    /// <summary>
    /// Stored, but its slave SAEs did not fetch every key within <see cref="RelayNodeOptions.HeldKeyLifetime"/>: those
    /// keys were deleted. A late copy of its Forward is confirmed again and stores nothing, as for <see cref="Stored"/>.
    /// </summary>
    Expired = 3,
}

/// <summary>A relay passing through (durable; no key material is ever kept here).</summary>
public enum TransitState
{
    /// <summary>About to send on; a node restarted in this state tells the origin to roll back.</summary>
    Forwarding = 1,

    Forwarded = 2,

    /// <summary>Could not go on; the origin was told.</summary>
    Failed = 3,
}
