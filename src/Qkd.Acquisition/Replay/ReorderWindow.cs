using Qkd.Core.TimeTags;

namespace Qkd.Acquisition.Replay;

/// <summary>
/// Puts tags that arrive nearly in time order back in order: a binary min-heap on (time, arrival), released up to a
/// horizon the caller knows no later tag can precede. PicoQuant T3 records come in sync order, but an event is at
/// sync time + dtime, and dtime may exceed the sync period (sync divider) or channels may be stored out of order within
/// one period, so a record can be later than the one after it; never by more than the largest dtime, which bounds how
/// many tags wait here. The heap's array is allocated once at <see cref="Capacity"/>: no allocation per tag.
/// <para>
/// A tag earlier than one already released cannot be placed (the file broke its own order by more than the window,
/// or the window was full and had to release early): it is dropped and counted in <see cref="NotPlaced"/>, never
/// handed out out of order.
/// </para>
/// </summary>
public sealed class ReorderWindow
{
    private readonly TimeTag[] _tags;
    private readonly long[] _arrivals;
    private long _nextArrival;

    /// <param name="capacity">Most tags held at once; when full, the earliest is released early.</param>
    public ReorderWindow(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _tags = new TimeTag[capacity];
        _arrivals = new long[capacity];
    }

    public int Capacity => _tags.Length;

    /// <summary>Tags waiting.</summary>
    public int Count { get; private set; }

    /// <summary>Most tags that ever waited at once.</summary>
    public int Peak { get; private set; }

    /// <summary>Tags dropped because a tag later than them had already been released.</summary>
    public long NotPlaced { get; private set; }

    /// <summary>Tags released early because the window was full (each may cause later tags to be not placed).</summary>
    public long ForcedReleases { get; private set; }

    /// <summary>Time of the last tag released (long.MinValue before the first).</summary>
    public long LastReleasedPs { get; private set; } = long.MinValue;

    public bool IsFull => Count == _tags.Length;

    /// <summary>Adds <paramref name="tag"/>, or counts it as not placed when it is earlier than a tag already released.</summary>
    /// <exception cref="InvalidOperationException">The window is full: release first.</exception>
    public void Add(in TimeTag tag)
    {
        if (tag.TimePs < LastReleasedPs)
        {
            NotPlaced++;
            return;
        }
        if (IsFull) throw new InvalidOperationException("The reorder window is full: release a tag before adding one.");
        int i = Count++;
        long arrival = _nextArrival++;
        // Sift up.
        while (i > 0)
        {
            int parent = (i - 1) >> 1;
            if (!Less(tag.TimePs, arrival, _tags[parent].TimePs, _arrivals[parent])) break;
            _tags[i] = _tags[parent];
            _arrivals[i] = _arrivals[parent];
            i = parent;
        }
        _tags[i] = tag;
        _arrivals[i] = arrival;
        if (Count > Peak) Peak = Count;
    }

    /// <summary>Moves the earliest tags at or before <paramref name="horizonPs"/> into <paramref name="destination"/>
    /// from <paramref name="written"/> on, while it has room.</summary>
    public void Release(long horizonPs, Span<TimeTag> destination, ref int written)
    {
        while (Count > 0 && written < destination.Length && _tags[0].TimePs <= horizonPs)
            destination[written++] = Pop();
    }

    /// <summary>Releases the earliest tag whatever its time (the window is full); it returns false when empty.</summary>
    public bool ReleaseEarliest(out TimeTag tag)
    {
        if (Count == 0)
        {
            tag = default;
            return false;
        }
        ForcedReleases++;
        tag = Pop();
        return true;
    }

    private TimeTag Pop()
    {
        var top = _tags[0];
        LastReleasedPs = top.TimePs;
        int last = --Count;
        if (last > 0)
        {
            var moved = _tags[last];
            long movedArrival = _arrivals[last];
            int i = 0;
            // Sift down.
            while (true)
            {
                int child = 2 * i + 1;
                if (child >= last) break;
                if (child + 1 < last && Less(_tags[child + 1].TimePs, _arrivals[child + 1], _tags[child].TimePs, _arrivals[child])) child++;
                if (!Less(_tags[child].TimePs, _arrivals[child], moved.TimePs, movedArrival)) break;
                _tags[i] = _tags[child];
                _arrivals[i] = _arrivals[child];
                i = child;
            }
            _tags[i] = moved;
            _arrivals[i] = movedArrival;
        }
        return top;
    }

    /// <summary>Time order; equal times keep their arrival (file) order.</summary>
    private static bool Less(long time, long arrival, long otherTime, long otherArrival) =>
        time < otherTime || (time == otherTime && arrival < otherArrival);
}
