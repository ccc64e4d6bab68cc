namespace Qkd.Core.Rings;

/// <summary>
/// What a ring's blocking <c>Write</c> does with elements that do not fit. Either way nothing disappears silently:
/// back-pressure keeps them with the producer until there is room, drop-newest counts every one it discards.
/// </summary>
public enum OverflowPolicy
{
    /// <summary>The producer waits (through the ring's wait strategy) until the consumer frees space.</summary>
    BackPressure = 0,

    /// <summary>
    /// Elements that find the ring full are discarded and added to the ring's <c>Dropped</c> counter; the producer never
    /// waits. The choice for a time tagger that must not stall its hardware FIFO: a counted gap beats a hidden one.
    /// </summary>
    DropNewest = 1,
}
