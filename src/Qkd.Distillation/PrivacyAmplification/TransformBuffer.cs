using System.Numerics;

namespace Qkd.Distillation.PrivacyAmplification;

/// <summary>
/// A 64-byte-aligned, power-of-two-sized word buffer for the FFT, kept in a small process-wide cache. Alignment matters:
/// the vector kernels then never split a cache line (a misaligned buffer made the transform two to three times
/// slower), and the pinned object heap guarantees the buffer never moves. Reuse matters too: fresh pages cost more than
/// the transform itself. Buffers are zeroised on return because they held key material; the cache keeps at most
/// <see cref="CachedPerSize"/> buffers of each size, so it retains no more memory than two products of the largest
/// size used: two, because both ends of a link may run in one process (emulation, replay) and hash their blocks at the
/// same time; with room for one product only, every block cost one end two fresh buffers.
/// </summary>
internal sealed class TransformBuffer : IDisposable
{
    private const int CachedPerSize = 4;
    private const int AlignmentWords = 64 / sizeof(ulong);

    private static readonly Stack<TransformBuffer>[] s_cache = CreateCache();

    private readonly ulong[] _array;
    private readonly int _offset;
    private readonly int _log;
    private bool _rented;

    private TransformBuffer(int log)
    {
        _log = log;
        _array = GC.AllocateUninitializedArray<ulong>((1 << log) + AlignmentWords, pinned: true);
        unsafe
        {
            fixed (ulong* start = _array)
                _offset = (int)((64 - ((nuint)start & 63)) & 63) / sizeof(ulong);
        }
    }

    /// <summary>The 2^log words; contents are unspecified on rent.</summary>
    public Span<ulong> Words => _array.AsSpan(_offset, 1 << _log);

    /// <summary>A buffer of 2^<paramref name="log"/> words, from the cache when one is free.</summary>
    public static TransformBuffer Rent(int log)
    {
        if (log < 0 || log >= s_cache.Length)
            throw new ArgumentOutOfRangeException(nameof(log), log, $"Transform buffers hold 2^0 .. 2^{s_cache.Length - 1} words.");
        TransformBuffer? buffer = null;
        lock (s_cache)
        {
            s_cache[log].TryPop(out buffer);
        }
        buffer ??= new TransformBuffer(log);
        buffer._rented = true;
        return buffer;
    }

    /// <summary>Zeroises the words and hands the buffer back to the cache (or to the GC when the cache is full).</summary>
    public void Dispose()
    {
        if (!_rented) return;
        _rented = false;
        Array.Clear(_array);
        lock (s_cache)
        {
            Stack<TransformBuffer> stack = s_cache[_log];
            if (stack.Count < CachedPerSize) stack.Push(this);
        }
    }

    private static Stack<TransformBuffer>[] CreateCache()
    {
        var cache = new Stack<TransformBuffer>[BitOperations.Log2((uint)int.MaxValue / 2) + 1];
        for (int i = 0; i < cache.Length; i++) cache[i] = new Stack<TransformBuffer>();
        return cache;
    }
}
