namespace Qkd.Network.Relay;

/// <summary>A key relayed across the network: its ETSI key_ID and bytes (the receiver zeroises them).</summary>
public sealed record RelayedKey(Guid Id, byte[] Key);

/// <summary>A relay was rolled back (nothing handed out anywhere); the message names why, never key material.</summary>
public sealed class RelayFailedException(string message, AbortReason reason) : Exception(message)
{
    public AbortReason Reason { get; } = reason;
}
