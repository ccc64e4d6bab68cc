using System.Runtime.CompilerServices;
using Qkd.Core.Random;

namespace Qkd.Distillation.ErrorCorrection;

/// <summary>
/// Random draws for building pass orders, called directly on the concrete generator: a schedule shuffles hundreds
/// of thousands of entries per frame, where two interface calls per draw would be a visible cost.
/// </summary>
internal static class PermutationRandom
{
    /// <summary>Uniform integer in [0, bound) without modulo bias (Lemire's multiply-shift with rejection).</summary>
    public static int Below(Xoshiro256StarStar random, int bound)
    {
        ulong m = (ulong)(uint)random.NextUInt64() * (uint)bound;
        if ((uint)m < (uint)bound)
        {
            uint threshold = (uint)-bound % (uint)bound;
            while ((uint)m < threshold)
                m = (ulong)(uint)random.NextUInt64() * (uint)bound;
        }
        return (int)(m >> 32);
    }

    /// <summary>Fills <paramref name="order"/> with a uniformly random permutation of 0..Length-1 (Fisher-Yates).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Shuffle(Xoshiro256StarStar random, Span<int> order)
    {
        for (int i = 0; i < order.Length; i++) order[i] = i;
        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = Below(random, i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
    }
}
