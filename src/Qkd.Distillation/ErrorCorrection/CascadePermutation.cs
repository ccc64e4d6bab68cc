using Qkd.Core.Bits;

namespace Qkd.Distillation.ErrorCorrection;

/// <summary>
/// The order in which one Cascade pass reads the frame: pass position i holds frame bit
/// <see cref="ToOriginal"/>(i). Both sides derive it from the shared seed, so it is public knowledge; its only job
/// is to scatter the errors that earlier passes left in pairs so that they land in different blocks.
/// </summary>
public abstract class CascadePermutation
{
    // Internal constructor: the implementations are part of the wire contract (both ends must build the same
    // order from the seed), so the hierarchy is closed to this assembly.
    private protected CascadePermutation(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        Length = length;
    }

    /// <summary>Number of bits permuted (the frame length).</summary>
    public int Length { get; }

    /// <summary>Position in the pass order of frame bit <paramref name="originalIndex"/>.</summary>
    public int ToPermuted(int originalIndex)
    {
        if ((uint)originalIndex >= (uint)Length)
            throw new ArgumentOutOfRangeException(nameof(originalIndex), originalIndex, $"Bit index outside 0..{Length - 1}.");
        return ToPermutedUnchecked(originalIndex);
    }

    /// <summary>Frame bit read at position <paramref name="permutedIndex"/> of the pass order.</summary>
    public int ToOriginal(int permutedIndex)
    {
        if ((uint)permutedIndex >= (uint)Length)
            throw new ArgumentOutOfRangeException(nameof(permutedIndex), permutedIndex, $"Position outside 0..{Length - 1}.");
        return ToOriginalUnchecked(permutedIndex);
    }

    /// <summary>
    /// Writes the permuted frame: bit i of <paramref name="destination"/> becomes bit ToOriginal(i) of
    /// <paramref name="source"/>. Both spans hold at least <see cref="PackedBits.WordCount"/>(Length) words (more
    /// are ignored); source bits past Length must be zero and destination bits past Length end up zero.
    /// </summary>
    public void Apply(ReadOnlySpan<ulong> source, Span<ulong> destination)
    {
        int words = PackedBits.WordCount(Length);
        if (source.Length < words)
            throw new ArgumentException($"The source holds {source.Length} words, {words} are needed for {Length} bits.", nameof(source));
        if (destination.Length < words)
            throw new ArgumentException($"The destination holds {destination.Length} words, {words} are needed for {Length} bits.", nameof(destination));
        ApplyCore(source[..words], destination[..words]);
    }

    internal abstract int ToPermutedUnchecked(int originalIndex);

    /// <summary>Block (of size <paramref name="blockSize"/>) that frame bit <paramref name="originalIndex"/> falls in.</summary>
    internal virtual int BlockOfUnchecked(int originalIndex, int blockSize) => ToPermutedUnchecked(originalIndex) / blockSize;

    /// <summary>
    /// Parity of positions [<paramref name="start"/>, start + <paramref name="length"/>) of the pass order, computed
    /// straight from the frame when the order makes that cheap (the halves of a final pass); false otherwise.
    /// </summary>
    internal virtual bool TryRangeParity(ReadOnlySpan<ulong> frame, int start, int length, out int parity)
    {
        parity = 0;
        return false;
    }

    internal abstract int ToOriginalUnchecked(int permutedIndex);

    /// <summary>Spans of exactly WordCount(Length) words.</summary>
    private protected abstract void ApplyCore(ReadOnlySpan<ulong> source, Span<ulong> destination);
}
