namespace Qkd.Kme.Pool;

/// <summary>
/// The operator's key-store key cannot be used: missing, malformed, stored in a file others can read, or not the key
/// the store was created with. Raised at startup, before any key is accepted or delivered.
/// </summary>
public sealed class OperatorKeyException(string message, Exception? inner = null) : Exception(message, inner);
