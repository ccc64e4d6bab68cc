namespace Qkd.Core.Rings;

/// <summary>
/// Free slots the producer may fill in place before publishing them: in at most two parts because the run may wrap
/// past the end of the slot array. Nothing here is visible to the consumer until the producer publishes.
/// </summary>
public readonly ref struct RingWriteSpans<T>
{
    public RingWriteSpans(Span<T> first, Span<T> second)
    {
        if (first.IsEmpty && !second.IsEmpty)
            throw new ArgumentException("The second part of a wrapped claim cannot be non-empty when the first is empty.", nameof(second));
        First = first;
        Second = second;
    }

    /// <summary>The slots up to the end of the slot array.</summary>
    public Span<T> First { get; }

    /// <summary>The slots that wrap to the start of the slot array; empty when the claim does not wrap.</summary>
    public Span<T> Second { get; }

    public int Length => First.Length + Second.Length;

    public bool IsEmpty => First.IsEmpty;

    /// <summary>Copies <paramref name="source"/> into the claimed slots from the first one on; returns how many were copied (all of source, or as many as fit).</summary>
    public int CopyFrom(ReadOnlySpan<T> source)
    {
        int count = Math.Min(source.Length, Length);
        int head = Math.Min(count, First.Length);
        source[..head].CopyTo(First);
        source[head..count].CopyTo(Second);
        return count;
    }
}
