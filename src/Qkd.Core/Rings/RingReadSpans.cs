namespace Qkd.Core.Rings;

/// <summary>
/// A batch the consumer may read in place: the readable run from the ring's read position, in at most two parts
/// because it may wrap past the end of the slot array. Valid until the consumer releases it.
/// </summary>
public readonly ref struct RingReadSpans<T>
{
    public RingReadSpans(ReadOnlySpan<T> first, ReadOnlySpan<T> second)
    {
        if (first.IsEmpty && !second.IsEmpty)
            throw new ArgumentException("The second part of a wrapped batch cannot be non-empty when the first is empty.", nameof(second));
        First = first;
        Second = second;
    }

    /// <summary>The elements up to the end of the slot array.</summary>
    public ReadOnlySpan<T> First { get; }

    /// <summary>The elements that wrapped to the start of the slot array; empty when the batch does not wrap.</summary>
    public ReadOnlySpan<T> Second { get; }

    public int Length => First.Length + Second.Length;

    public bool IsEmpty => First.IsEmpty;

    public T this[int index] => index < First.Length ? First[index] : Second[index - First.Length];

    /// <summary>Copies the whole batch, in order, to the start of <paramref name="destination"/>.</summary>
    public void CopyTo(Span<T> destination)
    {
        if (destination.Length < Length)
            throw new ArgumentException($"Destination holds {destination.Length} elements, the batch has {Length}.", nameof(destination));
        First.CopyTo(destination);
        Second.CopyTo(destination[First.Length..]);
    }
}
