namespace Qkd.Distillation.ErrorCorrection;

/// <summary>
/// Reuses the large word arrays Cascade builds per pass of every frame (Bob's permuted bits and search trees,
/// Alice's frame and pass copies): a million-bit frame needs several megabytes of them, all on the large object
/// heap, and a link corrects a block of frames every second or so. Allocating them afresh meant fresh pages to
/// fault in and zero, and full (gen 2) collections triggered by the large object heap's budget, which pause every
/// thread of the process. Arrays come back zeroed (they hold raw key: <see cref="Return"/> clears before keeping)
/// and are only ever handed out zeroed; at most <see cref="MaximumRetainedWords"/> words are kept, the rest is left to
/// the collector. Thread-safe.
/// </summary>
internal static class CascadeBuffers
{
    /// <summary>
    /// Words kept for reuse at most (96 MiB): what a block of 8 million-bit frames holds at both ends at QBER 2 %
    /// (Bob's trees are most of it). These arrays are live together while a block is corrected anyway; the pool only
    /// keeps them from one block to the next.
    /// </summary>
    public const long MaximumRetainedWords = 12L << 20;

    // Sizes are rounded up to a multiple of this (4 KiB), so the frames of a block, whose lengths differ by a bit
    // or so, share arrays.
    private const int Granule = 512;

    private static readonly Lock Gate = new();
    private static readonly Dictionary<int, Stack<ulong[]>> Free = [];
    private static long _retainedWords;

    /// <summary>A zeroed array of at least <paramref name="words"/> words (at most a granule more).</summary>
    public static ulong[] Rent(int words)
    {
        int size = RoundUp(words);
        lock (Gate)
        {
            if (Free.TryGetValue(size, out var stack) && stack.TryPop(out var array))
            {
                _retainedWords -= array.Length;
                return array;
            }
        }
        return new ulong[size];
    }

    /// <summary>Zeroes <paramref name="array"/> (raw key) and keeps it for reuse unless the pool is full.</summary>
    public static void Return(ulong[] array)
    {
        Array.Clear(array);
        if (array.Length != RoundUp(array.Length)) return; // not one of ours
        lock (Gate)
        {
            if (_retainedWords + array.Length > MaximumRetainedWords) return;
            if (!Free.TryGetValue(array.Length, out var stack)) Free[array.Length] = stack = new Stack<ulong[]>();
            stack.Push(array);
            _retainedWords += array.Length;
        }
    }

    private static int RoundUp(int words) => (int)Math.Min(Array.MaxLength, ((long)Math.Max(words, 1) + Granule - 1) / Granule * Granule);
}
