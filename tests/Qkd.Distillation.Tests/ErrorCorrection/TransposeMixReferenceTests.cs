using CsCheck;
using Qkd.Core.Bits;
using Qkd.Core.Random;
using Qkd.Distillation.ErrorCorrection;
using Qkd.Reference;

namespace Qkd.Distillation.Tests.ErrorCorrection;

/// <summary>
/// The packed <see cref="TransposeMixPermutation"/> (one table entry per word and round) against the reference copy of
/// the version before it (tests/Shared/Reference): both ends must derive the same order from a frame's seed, so the
/// rewrite must be the same permutation, bit for bit, for every length, including lengths with a tail (n mod 64 != 0).
/// </summary>
public class TransposeMixReferenceTests
{
    private static readonly Gen<int> Lengths = Gen.OneOf(
        Gen.Int[TransposeMixPermutation.MinimumLength, 20_000],
        Gen.Int[20_000, 200_000],
        Gen.Int[1, 64].Select(w => 64 * 64 * w));

    [Fact]
    public void SameMappingAsTheReference() =>
        Gen.Select(Lengths, Gen.ULong, Gen.Int[0, int.MaxValue].Array[64]).Sample((length, seed, picks) =>
        {
            var packed = new TransposeMixPermutation(length, new Xoshiro256StarStar(seed));
            var reference = new ReferenceTransposeMixPermutation(length, new Xoshiro256StarStar(seed));
            foreach (int pick in picks)
            {
                int index = pick % length;
                if (packed.ToPermutedUnchecked(index) != reference.ToPermutedUnchecked(index)) return false;
                if (packed.ToOriginalUnchecked(index) != reference.ToOriginalUnchecked(index)) return false;
            }
            // The tail and the last word are where the special cases are.
            for (int index = Math.Max(0, length - 130); index < length; index++)
                if (packed.ToPermutedUnchecked(index) != reference.ToPermutedUnchecked(index)
                    || packed.ToOriginalUnchecked(index) != reference.ToOriginalUnchecked(index)) return false;
            return true;
        }, iter: 60);

    [Fact]
    public void SameApplyAsTheReference() =>
        Gen.Select(Lengths, Gen.ULong).Sample((length, seed) =>
        {
            var random = new Xoshiro256StarStar(seed ^ 0x5EED);
            var frame = new ulong[PackedBits.WordCount(length)];
            for (int i = 0; i < frame.Length; i++) frame[i] = random.NextUInt64();
            if ((length & 63) != 0) frame[^1] &= (1UL << (length & 63)) - 1;
            var packed = new ulong[frame.Length];
            var reference = new ulong[frame.Length];
            new TransposeMixPermutation(length, new Xoshiro256StarStar(seed)).Apply(frame, packed);
            new ReferenceTransposeMixPermutation(length, new Xoshiro256StarStar(seed)).ApplyCore(frame, reference);
            return packed.AsSpan().SequenceEqual(reference);
        }, iter: 40);
}
