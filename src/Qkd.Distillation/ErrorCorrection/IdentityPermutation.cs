namespace Qkd.Distillation.ErrorCorrection;

/// <summary>The frame's own order (used for the first pass when <see cref="CascadeOptions.PermuteFirstPass"/> is off).</summary>
internal sealed class IdentityPermutation(int length) : CascadePermutation(length)
{
    internal override int ToPermutedUnchecked(int originalIndex) => originalIndex;

    internal override int ToOriginalUnchecked(int permutedIndex) => permutedIndex;

    private protected override void ApplyCore(ReadOnlySpan<ulong> source, Span<ulong> destination) => source.CopyTo(destination);
}
