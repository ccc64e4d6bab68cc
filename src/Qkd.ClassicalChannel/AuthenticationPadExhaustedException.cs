namespace Qkd.ClassicalChannel;

/// <summary>
/// No unused one-time-pad bits are left for the next authentication tag. The channel stops rather than reuse bits (a
/// reused pad would leak the hash key): the operator must provide a new pre-shared secret, or the node must replenish
/// from distilled key sooner.
/// </summary>
public sealed class AuthenticationPadExhaustedException(string message) : Exception(message);
