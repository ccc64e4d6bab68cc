namespace Qkd.Core.TimeTags;

/// <summary>
/// A time-tag source with an acquisition thread of its own: that thread drains the device into a lock-free ring
/// (a time-tagger driver's connection reader decodes TagData frames straight into its
/// <see cref="Rings.SpscRing{T}"/>), and <see cref="ITimeTagSource.Read"/> only takes tags out of that ring. The
/// acquisition side reads such a source directly on the consumer's thread, so this ring is the one ring between the
/// tagger and clock recovery; it does not copy the tags through a second ring and a second thread.
/// </summary>
/// <remarks>The three counters may be read from any thread.</remarks>
public interface IBufferedTimeTagSource : ITimeTagSource
{
    /// <summary>Tags waiting in the source's ring.</summary>
    int Buffered { get; }

    /// <summary>The ring's capacity, tags.</summary>
    int BufferCapacity { get; }

    /// <summary>
    /// Tags the source received but never put in its ring: refused by a full ring, or abandoned because the stream
    /// was stopped (or the source disposed) while the ring was full. Exact; none of them is ever delivered.
    /// </summary>
    long Dropped { get; }
}
