using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Qkd.Core.Rings;

/// <summary>
/// A bounded lock-free ring for exactly one producer thread and one consumer thread, after the LMAX Disruptor:
/// power-of-two slot array, monotonically increasing 64-bit sequences (never reset, so they double as the
/// <see cref="Published"/> and <see cref="Consumed"/> counters), the two cursors on separate padded cache lines, and
/// batching: a producer fills any number of slots and makes them visible with one release store of its cursor; the
/// consumer reads a batch in place and hands the slots back with one release store of its own. Nothing is allocated
/// after construction.
/// </summary>
/// <remarks>
/// Producer-side members (<see cref="Claim"/>, <see cref="Publish"/>, <c>TryWrite</c>, <c>Write</c>,
/// <see cref="Complete"/>) must be called from one thread at a time, consumer-side members (<see cref="Peek"/>,
/// <see cref="Release"/>, <c>TryRead</c>, <c>Read</c>, <c>WaitToRead</c>) from one thread at a time; the counters
/// may be read from anywhere.
/// Non-blocking <c>TryWrite</c> never drops: what does not fit stays with the caller. Blocking <c>Write</c> applies
/// the ring's <see cref="OverflowPolicy"/>: it waits for space, or counts the elements that do not fit in
/// <see cref="Dropped"/>.
/// </remarks>
public sealed class SpscRing<T> where T : unmanaged
{
    private readonly T[] _slots;
    private readonly int _mask;
    private readonly IWaitStrategy _waitStrategy;
    private readonly Func<bool> _canRead;
    private readonly Func<bool> _canWrite;
    private SpscCursors _cursors;

    public SpscRing(int capacity, OverflowPolicy overflowPolicy = OverflowPolicy.BackPressure, IWaitStrategy? waitStrategy = null)
    {
        RingCapacity.Validate(capacity);
        if (!Enum.IsDefined(overflowPolicy))
            throw new ArgumentOutOfRangeException(nameof(overflowPolicy), overflowPolicy, "Unknown overflow policy.");
        _slots = new T[capacity];
        _mask = capacity - 1;
        OverflowPolicy = overflowPolicy;
        _waitStrategy = waitStrategy ?? YieldingWaitStrategy.Instance;
        _canRead = HasDataOrCompleted;
        _canWrite = HasSpace;
    }

    public int Capacity => _slots.Length;

    public OverflowPolicy OverflowPolicy { get; }

    public IWaitStrategy WaitStrategy => _waitStrategy;

    /// <summary>Elements made visible to the consumer so far (the producer cursor).</summary>
    public long Published => Volatile.Read(ref _cursors.ProducerSequence);

    /// <summary>Elements the consumer has read and released so far (the consumer cursor).</summary>
    public long Consumed => Volatile.Read(ref _cursors.ConsumerSequence);

    /// <summary>Elements discarded by <c>Write</c> under <see cref="OverflowPolicy.DropNewest"/>; exact.</summary>
    public long Dropped => Volatile.Read(ref _cursors.Dropped);

    /// <summary>Elements published but not yet released by the consumer: 0..<see cref="Capacity"/>.</summary>
    public int Fill
    {
        get
        {
            long consumed = Volatile.Read(ref _cursors.ConsumerSequence); // first: the producer cursor can only be ahead
            long published = Volatile.Read(ref _cursors.ProducerSequence);
            return (int)Math.Clamp(published - consumed, 0, Capacity);
        }
    }

    /// <summary>True once the producer has called <see cref="Complete"/>; elements may still be waiting to be read.</summary>
    public bool IsCompleted => Volatile.Read(ref _cursors.Completed) != 0;

    /// <summary>True once the producer has completed and the consumer has released every element.</summary>
    public bool IsEndOfStream => IsCompleted && Volatile.Read(ref _cursors.ProducerSequence) == Volatile.Read(ref _cursors.ConsumerSequence);

    // ---------------------------------------------------------------- producer side

    /// <summary>
    /// Free slots for up to <paramref name="maxCount"/> elements, to fill in place and then <see cref="Publish"/>.
    /// Empty when the ring is full. Claiming reserves nothing: a later, larger claim sees the same slots.
    /// </summary>
    public RingWriteSpans<T> Claim(int maxCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxCount);
        ThrowIfCompleted();
        long producer = _cursors.ProducerSequence;
        int count = (int)Math.Min(maxCount, FreeSlots(producer, maxCount));
        int index = (int)producer & _mask;
        int head = Math.Min(count, _slots.Length - index);
        return new RingWriteSpans<T>(_slots.AsSpan(index, head), _slots.AsSpan(0, count - head));
    }

    /// <summary>Makes the first <paramref name="count"/> claimed slots visible to the consumer with one release store.</summary>
    public void Publish(int count)
    {
        long producer = _cursors.ProducerSequence;
        if ((uint)count > (ulong)(Capacity - (producer - _cursors.CachedConsumerSequence)))
            throw new ArgumentOutOfRangeException(nameof(count), count, "Cannot publish more slots than were free when claimed.");
        if (count == 0) return;
        Volatile.Write(ref _cursors.ProducerSequence, producer + count);
        _waitStrategy.Signal();
    }

    /// <summary>Publishes <paramref name="item"/> if there is a free slot; false when the ring is full (nothing is dropped).</summary>
    public bool TryWrite(in T item)
    {
        ThrowIfCompleted();
        long producer = _cursors.ProducerSequence;
        if (FreeSlots(producer, 1) == 0) return false;
        Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_slots), (int)producer & _mask) = item;
        Volatile.Write(ref _cursors.ProducerSequence, producer + 1);
        _waitStrategy.Signal();
        return true;
    }

    /// <summary>
    /// Copies as many of <paramref name="items"/> as fit (from the first on) and publishes them with one release store;
    /// returns how many. Never waits and never drops: the rest stay with the caller.
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
    /// back only when <paramref name="timeout"/> passes or <paramref name="cancellationToken"/> is cancelled (the rest
    /// stay with the caller). <see cref="OverflowPolicy.DropNewest"/>: never waits; those that do not fit are
    /// discarded and counted in <see cref="Dropped"/>.
    /// </summary>
    public int Write(ReadOnlySpan<T> items, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ThrowIfCompleted();
        int written = WriteAvailable(items);
        if (written == items.Length) return written;
        if (OverflowPolicy == OverflowPolicy.DropNewest)
        {
            Volatile.Write(ref _cursors.Dropped, _cursors.Dropped + (items.Length - written));
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
            Volatile.Write(ref _cursors.Dropped, _cursors.Dropped + 1);
            return false;
        }
        while (_waitStrategy.WaitUntil(_canWrite, Timeout.InfiniteTimeSpan, cancellationToken))
            if (TryWrite(item)) return true;
        return false;
    }

    /// <summary>
    /// Waits through the wait strategy until at least one slot is free (true), for a producer that fills slots in place
    /// (<see cref="Claim"/>); false when <paramref name="cancellationToken"/> is cancelled first.
    /// </summary>
    public bool WaitToWrite(CancellationToken cancellationToken = default)
    {
        ThrowIfCompleted();
        return HasSpace() || _waitStrategy.WaitUntil(_canWrite, Timeout.InfiniteTimeSpan, cancellationToken);
    }

    /// <summary>
    /// Ends the stream: no more writes. The consumer reads what is left and then sees end of stream. Idempotent.
    /// </summary>
    public void Complete()
    {
        Volatile.Write(ref _cursors.Completed, 1);
        _waitStrategy.Signal();
    }

    // ---------------------------------------------------------------- consumer side

    /// <summary>
    /// Up to <paramref name="maxCount"/> published elements to read in place; empty when there are none. The slots stay
    /// the consumer's until <see cref="Release"/>.
    /// </summary>
    public RingReadSpans<T> Peek(int maxCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxCount);
        long consumer = _cursors.ConsumerSequence;
        int count = (int)Math.Min(maxCount, AvailableToRead(consumer, maxCount));
        int index = (int)consumer & _mask;
        int head = Math.Min(count, _slots.Length - index);
        return new RingReadSpans<T>(_slots.AsSpan(index, head), _slots.AsSpan(0, count - head));
    }

    /// <summary>Hands the first <paramref name="count"/> peeked elements back to the producer with one release store.</summary>
    public void Release(int count)
    {
        long consumer = _cursors.ConsumerSequence;
        if ((uint)count > (ulong)(_cursors.CachedProducerSequence - consumer))
            throw new ArgumentOutOfRangeException(nameof(count), count, "Cannot release more elements than were available when peeked.");
        if (count == 0) return;
        Volatile.Write(ref _cursors.ConsumerSequence, consumer + count);
        _waitStrategy.Signal();
    }

    /// <summary>Takes the oldest element if there is one.</summary>
    public bool TryRead(out T item)
    {
        long consumer = _cursors.ConsumerSequence;
        if (AvailableToRead(consumer, 1) == 0)
        {
            item = default;
            return false;
        }
        item = Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_slots), (int)consumer & _mask);
        Volatile.Write(ref _cursors.ConsumerSequence, consumer + 1);
        _waitStrategy.Signal();
        return true;
    }

    /// <summary>Copies up to <paramref name="destination"/>.Length of the oldest elements and releases them in one store; returns how many (0 when empty).</summary>
    public int TryRead(Span<T> destination)
    {
        var batch = Peek(destination.Length);
        batch.CopyTo(destination);
        Release(batch.Length);
        return batch.Length;
    }

    /// <summary>
    /// Waits through the wait strategy for at least one element and copies up to <paramref name="destination"/>.Length;
    /// returns 0 only at end of stream (the producer completed and everything was read), like
    /// <see cref="TimeTags.ITimeTagSource.Read"/>. Throws <see cref="OperationCanceledException"/> on cancellation;
    /// nothing is lost then.
    /// </summary>
    public int Read(Span<T> destination, CancellationToken cancellationToken = default)
    {
        if (destination.IsEmpty)
            throw new ArgumentException("The destination must have room for at least one element.", nameof(destination));
        while (true)
        {
            bool completed = IsCompleted; // read before the cursor: a completed producer has published its last element
            int read = TryRead(destination);
            if (read > 0) return read;
            if (completed) return 0;
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

    /// <summary>Producer's view of free slots, reading the consumer's cursor only when its cached copy shows fewer than wanted.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private long FreeSlots(long producer, int wanted)
    {
        long free = Capacity - (producer - _cursors.CachedConsumerSequence);
        if (free < wanted)
        {
            _cursors.CachedConsumerSequence = Volatile.Read(ref _cursors.ConsumerSequence);
            free = Capacity - (producer - _cursors.CachedConsumerSequence);
        }
        return free;
    }

    /// <summary>Consumer's view of published elements, reading the producer's cursor only when its cached copy shows fewer than wanted.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private long AvailableToRead(long consumer, int wanted)
    {
        long available = _cursors.CachedProducerSequence - consumer;
        if (available < wanted)
        {
            _cursors.CachedProducerSequence = Volatile.Read(ref _cursors.ProducerSequence);
            available = _cursors.CachedProducerSequence - consumer;
        }
        return available;
    }

    private int WriteAvailable(ReadOnlySpan<T> items)
    {
        long producer = _cursors.ProducerSequence;
        int count = (int)Math.Min(items.Length, FreeSlots(producer, items.Length));
        if (count == 0) return 0;
        int index = (int)producer & _mask;
        int head = Math.Min(count, _slots.Length - index);
        items[..head].CopyTo(_slots.AsSpan(index, head));
        items[head..count].CopyTo(_slots.AsSpan(0, count - head));
        Volatile.Write(ref _cursors.ProducerSequence, producer + count);
        _waitStrategy.Signal();
        return count;
    }

    private bool HasDataOrCompleted() =>
        Volatile.Read(ref _cursors.Completed) != 0 || Volatile.Read(ref _cursors.ProducerSequence) != _cursors.ConsumerSequence;

    private bool HasSpace() => _cursors.ProducerSequence - Volatile.Read(ref _cursors.ConsumerSequence) < Capacity;

    private void ThrowIfCompleted()
    {
        if (_cursors.Completed != 0)
            throw new InvalidOperationException("The ring was completed: the producer cannot write after Complete().");
    }
}
