namespace Qkd.ClassicalChannel;

/// <summary>
/// Consumption of the authentication pad at one end, in bits, for the report and metrics. Tags are 128 bits; every
/// authenticated frame (data, acknowledgement, handshake, resend) spends one tag's worth of this end's half.
/// </summary>
/// <param name="PreSharedBits">Pad bits from the operator's pre-shared file (both directions; the hash key excluded).</param>
/// <param name="ReplenishedBits">Pad bits appended from distilled key (both directions).</param>
/// <param name="ConsumedBits">This end's pad bits spent or reserved by the durable cursor (never to be used again).</param>
/// <param name="TagBitsUsedThisProcess">Pad bits actually put into tags since this process opened the store.</param>
/// <param name="RemainingBits">This end's pad bits still unused.</param>
/// <param name="ReplenishCount">How many replenishments were applied (over the store's life): the hash key epoch.</param>
/// <param name="PendingReplenishments">Blocks whose replenishment waits for both ends to hold it (applied at the next handshake).</param>
public sealed record AuthenticationPadAccount(
    long PreSharedBits,
    long ReplenishedBits,
    long ConsumedBits,
    long TagBitsUsedThisProcess,
    long RemainingBits,
    long ReplenishCount,
    long PendingReplenishments = 0);
