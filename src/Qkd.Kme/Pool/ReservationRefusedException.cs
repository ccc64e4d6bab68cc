namespace Qkd.Kme.Pool;

/// <summary>
/// A rule of the pool refuses the peer's reservation for good (a key already reserved for another SAE pair, or of a
/// block this pool dropped), as opposed to a store that failed and may record it when asked again. Nothing was recorded.
/// </summary>
public sealed class ReservationRefusedException(string message) : InvalidOperationException(message);
