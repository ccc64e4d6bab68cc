namespace Qkd.ClassicalChannel;

/// <summary>
/// This end's authentication pad state is missing or older than the peer's (its state folder was deleted or restored from
/// a backup): going on would reuse one-time-pad bits, so the pad refuses to authenticate anything more, now and after a
/// restart. The way out is a fresh pre-shared secret at both ends (and empty state folders).
/// </summary>
public sealed class AuthenticationPadStaleException(string message) : Exception(message);
