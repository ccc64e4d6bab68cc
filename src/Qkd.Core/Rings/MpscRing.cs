using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Qkd.Core.Rings;

/// <summary>
/// A bounded lock-free ring for any number of producer threads (several time taggers, GPIO edge events) and one
/// consumer thread, after the Disruptor's multi-producer sequencer. Producers claim a run of slots with one
/// compare-and-swap on the shared claim sequence (never more than the free space, so a claim can always be filled),
/// copy their elements in, and mark each slot published by storing the slot's lap number in a per-slot flag. The
/// consumer reads only the contiguous run of published slots from its cursor, in place, and releases a batch with
/// one release store. A producer that is slow to fill its claim holds back the slots after it, never corrupts them.
/// </summary>
/// <remarks>
/// <see cref="Published"/> counts accepted elements (the claim sequence): an element counts from the moment its
/// producer claims its slot, and is readable as soon as that producer has copied it in. Once all producers have
/// returned, <see cref="Published"/> + <see cref="Dropped"/> equals exactly what they attempted.
/// <see cref="Complete"/> is for after every producer has returned from its last write: writes that race with it
/// may be lost to the consumer, writes after it throw.
/// </remarks>
public sealed class MpscRing<T> where T : unmanaged
{
    private readonly T[] _slots;
    /// <summary>Per slot, the lap (sequence / capacity) of the element last published there; -1 before the first lap.</summary>
    private readonly int[] _publishedLap;
    private readonly int _mask;
    private readonly int _lapShift;
    private readonly IWaitStrategy _waitStrategy;
    private readonly Func<bool> _canRead;
    private readonly Func<bool> _canWrite;
    private MpscCursors _cursors;

    public MpscRing(int capacity, OverflowPolicy overflowPolicy = OverflowPolicy.BackPressure, IWaitStrategy? waitStrategy = null)
    {
        RingCapacity.Validate(capacity);
        if (!Enum.IsDefined(overflowPolicy))
            throw new ArgumentOutOfRangeException(nameof(overflowPolicy), overflowPolicy, "Unknown overflow policy.");
        _slots = new T[capacity];
        _publishedLap = new int[capacity];
        _publishedLap.AsSpan().Fill(-1);
        _mask = capacity - 1;
        _lapShift = BitOperations.Log2((uint)capacity);
        OverflowPolicy = overflowPolicy;
        _waitStrategy = waitStrategy ?? YieldingWaitStrategy.Instance;
        _canRead = HasDataOrCompleted;
        _canWrite = HasSpace;
    }

    public int Capacity => _slots.Length;

    public OverflowPolicy OverflowPolicy { get; }

    public IWaitStrategy WaitStrategy => _waitStrategy;

    /// <summary>Elements accepted by the ring so far (claimed by their producers; see the remarks).</summary>
    public long Published => Volatile.Read(ref _cursors.ClaimSequence);

    /// <summary>Elements the consumer has read and released so far.</summary>
    public long Consumed => Volatile.Read(ref _cursors.ConsumerSequence);

    /// <summary>Elements discarded by <c>Write</c> under <see cref="OverflowPolicy.DropNewest"/>; exact under any contention.</summary>
    public long Dropped => Volatile.Read(ref _cursors.Dropped);

    /// <summary>Elements accepted but not yet released by the consumer: 0..<see cref="Capacity"/>.</summary>
    public int Fill
    {
        get
        {
            long consumed = Volatile.Read(ref _cursors.ConsumerSequence);
            long published = Volatile.Read(ref _cursors.ClaimSequence);
            return (int)Math.Clamp(published - consumed, 0, Capacity);
        }
    }

    /// <summary>True once <see cref="Complete"/> was called; elements may still be waiting to be read.</summary>
    public bool IsCompleted => Volatile.Read(ref _cursors.Completed) != 0;

    /// <summary>True once the ring was completed and the consumer has released every accepted element.</summary>
    public bool IsEndOfStream => IsCompleted && Volatile.Read(ref _cursors.ClaimSequence) == Volatile.Read(ref _cursors.ConsumerSequence);

    // ---------------------------------------------------------------- producer side (any thread)

    /// <summary>Publishes <paramref name="item"/> if there is a free slot; false when the ring is full (nothing is dropped).</summary>
    public bool TryWrite(in T item)
    {
        ThrowIfCompleted();
        long sequence = ClaimUpTo(1, out int claimed);
        if (claimed == 0) return false;
        int index = (int)sequence & _mask;
        Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_slots), index) = item;
        Volatile.Write(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_publishedLap), index), (int)(sequence >> _lapShift));
        _waitStrategy.Signal();
        return true;
    }

    /// <summary>
    /// Copies as many of <paramref name="items"/> as fit (from the first on) into one claimed run of slots and
    /// publishes them; returns how many. Never waits and never drops: the rest stay with the caller.
    /// </summary>
    public int TryWrite(ReadOnlySpan<T> items)
    {
        ThrowIfCompleted();
        return WriteAvailable(items);
    }

    /// <summary>Writes <paramref name="items"/> under the ring's overflow policy, waiting as long as needed (see the timeout overload).</summary>
    public int Write(ReadOnlySpan<T> items, CancellationToken cancellationToken = default) =>
        Write(items, Timeout.InfiniteTimeSpan, cancellationToken);

    /// <summary>
    /// Writes <paramref name="items"/> under the ring's overflow policy and returns how many were published.
    /// <see cref="OverflowPolicy.BackPressure"/>: waits through the wait strategy until all are written, so fewer come
    /// back only on timeout or cancellation (the rest stay with the caller); the elements of one call keep their order
    /// but may interleave with other producers'. <see cref="OverflowPolicy.DropNewest"/>: never waits; those that do
    /// not fit are discarded and counted in <see cref="Dropped"/>.
    /// </summary>
    public int Write(ReadOnlySpan<T> items, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ThrowIfCompleted();
        int written = WriteAvailable(items);
        if (written == items.Length) return written;
        if (OverflowPolicy == OverflowPolicy.DropNewest)
        {
            Interlocked.Add(ref _cursors.Dropped, items.Length - written);
            return written;
        }
        var deadline = WaitDeadline.Start(timeout);
        while (written < items.Length && _waitStrategy.WaitUntil(_canWrite, deadline.Remaining, cancellationToken))
            written += WriteAvailable(items[written..]);
        return written;
    }

    /// <summary>
    /// Writes one element under the overflow policy: true when published; false when dropped (and counted) under
    /// <see cref="OverflowPolicy.DropNewest"/>, or when cancelled under <see cref="OverflowPolicy.BackPressure"/>.
    /// </summary>
    public bool Write(in T item, CancellationToken cancellationToken = default)
    {
        if (TryWrite(item)) return true;
        if (OverflowPolicy == OverflowPolicy.DropNewest)
        {
            Interlocked.Increment(ref _cursors.Dropped);
            return false;
        }
        while (_waitStrategy.WaitUntil(_canWrite, Timeout.InfiniteTimeSpan, cancellationToken))
            if (TryWrite(item)) return true;
        return false;
    }

    /// <summary>Ends the stream once every producer has returned from its last write (see the remarks). Idempotent.</summary>
    public void Complete()
    {
        Volatile.Write(ref _cursors.Completed, 1);
        _waitStrategy.Signal();
    }

    // ---------------------------------------------------------------- consumer side (one thread)

    /// <summary>
    /// Up to <paramref name="maxCount"/> published elements, in sequence order, to read in place: the contiguous run
    /// from the read position whose producers have finished writing. Empty when there is none yet.
    /// </summary>
    public RingReadSpans<T> Peek(int maxCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxCount);
        long consumer = _cursors.ConsumerSequence;
        int count = PublishedRun(consumer, maxCount);
        int index = (int)consumer & _mask;
        int head = Math.Min(count, _slots.Length - index);
        return new RingReadSpans<T>(_slots.AsSpan(index, head), _slots.AsSpan(0, count - head));
    }

    /// <summary>Hands the first <paramref name="count"/> peeked elements back to the producers with one release store.</summary>
    public void Release(int count)
    {
        long consumer = _cursors.ConsumerSequence;
        if ((uint)count > (ulong)(_cursors.CachedClaimSequence - consumer) || (count > 0 && !IsPublished(consumer + count - 1)))
            throw new ArgumentOutOfRangeException(nameof(count), count, "Cannot release more elements than were available when peeked.");
        if (count == 0) return;
        Volatile.Write(ref _cursors.ConsumerSequence, consumer + count);
        _waitStrategy.Signal();
    }

    /// <summary>Takes the oldest element if it is published.</summary>
    public bool TryRead(out T item)
    {
        long consumer = _cursors.ConsumerSequence;
        if (PublishedRun(consumer, 1) == 0)
        {
            item = default;
            return false;
        }
        item = Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_slots), (int)consumer & _mask);
        Volatile.Write(ref _cursors.ConsumerSequence, consumer + 1);
        _waitStrategy.Signal();
        return true;
    }

    /// <summary>Copies up to <paramref name="destination"/>.Length of the oldest published elements and releases them in one store; returns how many.</summary>
    public int TryRead(Span<T> destination)
    {
        var batch = Peek(destination.Length);
        batch.CopyTo(destination);
        Release(batch.Length);
        return batch.Length;
    }

    /// <summary>
    /// Waits through the wait strategy for at least one element and copies up to <paramref name="destination"/>.Length;
    /// returns 0 only at end of stream. Throws <see cref="OperationCanceledException"/> on cancellation; nothing is lost then.
    /// </summary>
    public int Read(Span<T> destination, CancellationToken cancellationToken = default)
    {
        if (destination.IsEmpty)
            throw new ArgumentException("The destination must have room for at least one element.", nameof(destination));
        while (true)
        {
            bool completed = IsCompleted; // before the cursors: after completion no producer claims any more
            int read = TryRead(destination);
            if (read > 0) return read;
            if (completed && Volatile.Read(ref _cursors.ClaimSequence) == _cursors.ConsumerSequence) return 0;
            if (!_waitStrategy.WaitUntil(_canRead, Timeout.InfiniteTimeSpan, cancellationToken))
                cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary>Waits until an element can be read (true) or the stream has ended (false).</summary>
    public bool WaitToRead(CancellationToken cancellationToken = default)
    {
        if (!_waitStrategy.WaitUntil(_canRead, Timeout.InfiniteTimeSpan, cancellationToken))
            cancellationToken.ThrowIfCancellationRequested();
        return !IsEndOfStream;
    }

    /// <summary>
    /// Waits up to <paramref name="timeout"/> for an element: true when one can be read; false on timeout or at end of
    /// stream (see <see cref="IsEndOfStream"/>). Throws <see cref="OperationCanceledException"/> on cancellation.
    /// </summary>
    public bool WaitToRead(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (!_waitStrategy.WaitUntil(_canRead, timeout, cancellationToken))
        {
            cancellationToken.ThrowIfCancellationRequested();
            return false;
        }
        return !IsEndOfStream;
    }

    // ---------------------------------------------------------------- internals

    /// <summary>
    /// Claims up to <paramref name="wanted"/> free slots with one CAS on the claim sequence; returns the first claimed
    /// sequence and the number claimed (0 when full). Claims never exceed the free space, so the consumer can never be lapped.
    /// </summary>
    private long ClaimUpTo(int wanted, out int claimed)
    {
        while (true)
        {
            long claim = Volatile.Read(ref _cursors.ClaimSequence);
            // A stale cached consumer cursor only under-estimates the free space; refresh it when it looks short.
            long free = Capacity - (claim - Volatile.Read(ref _cursors.CachedConsumerSequence));
            if (free < wanted)
            {
                long consumer = Volatile.Read(ref _cursors.ConsumerSequence);
                Volatile.Write(ref _cursors.CachedConsumerSequence, consumer);
                free = Capacity - (claim - consumer);
            }
            int count = (int)Math.Clamp(free, 0, wanted);
            if (count == 0)
            {
                claimed = 0;
                return claim;
            }
            if (Interlocked.CompareExchange(ref _cursors.ClaimSequence, claim + count, claim) == claim)
            {
                claimed = count;
                return claim;
            }
        }
    }

    private int WriteAvailable(ReadOnlySpan<T> items)
    {
        if (items.IsEmpty) return 0;
        long sequence = ClaimUpTo(items.Length, out int count);
        if (count == 0) return 0;
        int index = (int)sequence & _mask;
        int head = Math.Min(count, _slots.Length - index);
        items[..head].CopyTo(_slots.AsSpan(index, head));
        items[head..count].CopyTo(_slots.AsSpan(0, count - head));
        // Flags after all the data: each release store orders the copies above before it.
        ref int laps = ref MemoryMarshal.GetArrayDataReference(_publishedLap);
        for (long s = sequence, end = sequence + count; s < end; s++)
            Volatile.Write(ref Unsafe.Add(ref laps, (int)s & _mask), (int)(s >> _lapShift));
        _waitStrategy.Signal();
        return count;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool IsPublished(long sequence) =>
        Volatile.Read(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_publishedLap), (int)sequence & _mask)) == (int)(sequence >> _lapShift);

    /// <summary>How many slots from <paramref name="consumer"/> on, up to <paramref name="maxCount"/>, are claimed and published.</summary>
    private int PublishedRun(long consumer, int maxCount)
    {
        long claimed = _cursors.CachedClaimSequence - consumer;
        if (claimed < maxCount)
        {
            _cursors.CachedClaimSequence = Volatile.Read(ref _cursors.ClaimSequence);
            claimed = _cursors.CachedClaimSequence - consumer;
        }
        int limit = (int)Math.Min(maxCount, claimed);
        int run = 0;
        while (run < limit && IsPublished(consumer + run))
            run++;
        return run;
    }

    private bool HasDataOrCompleted() => Volatile.Read(ref _cursors.Completed) != 0 || IsPublished(_cursors.ConsumerSequence);

    private bool HasSpace() => Volatile.Read(ref _cursors.ClaimSequence) - Volatile.Read(ref _cursors.ConsumerSequence) < Capacity;

    private void ThrowIfCompleted()
    {
        if (Volatile.Read(ref _cursors.Completed) != 0)
            throw new InvalidOperationException("The ring was completed: no producer may write after Complete().");
    }
}
