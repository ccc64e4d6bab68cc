namespace Qkd.Network.Relay;

/// <summary>Bytes that are not a relay message of this version; the message names what is wrong (never key bytes).</summary>
public sealed class RelayMessageFormatException(string message) : Exception(message);
