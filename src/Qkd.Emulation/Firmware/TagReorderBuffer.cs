using Qkd.Core.TimeTags;

namespace Qkd.Emulation.Firmware;

/// <summary>
/// Restores time order after per-input delays: tags enter sorted by their undelayed time, leave sorted by their
/// delayed time once no later input tag can precede them (the watermark: last input time plus the smallest delay).
/// Tags arrive almost sorted, so insertion from the back is usually one comparison; equal times keep arrival order,
/// so with no delays the output is exactly the input. The array grows only when delays spread over many tags.
/// </summary>
internal sealed class TagReorderBuffer
{
    private TimeTag[] _tags = new TimeTag[8192];
    private int _head;
    private int _tail;
    private long _lastReleased = long.MinValue;

    public int Count => _tail - _head;

    /// <summary>Tags that would have left before an already released tag (delays changed mid-stream) and were clamped.</summary>
    public long OrderClamps { get; private set; }

    public void Insert(in TimeTag tag)
    {
        TimeTag item = tag;
        if (item.TimePs < _lastReleased)
        {
            item = new TimeTag(_lastReleased, item.Channel, item.Kind, item.MissedEvents);
            OrderClamps++;
        }
        if (_tail == _tags.Length) MakeRoom();
        TimeTag[] tags = _tags;
        int i = _tail;
        while (i > _head && tags[i - 1].TimePs > item.TimePs)
        {
            tags[i] = tags[i - 1];
            i--;
        }
        tags[i] = item;
        _tail++;
    }

    /// <summary>Whether the oldest tag may leave at <paramref name="watermarkPs"/> (no later input can precede it).</summary>
    public bool TryRelease(long watermarkPs, out TimeTag tag)
    {
        if (_head < _tail && _tags[_head].TimePs <= watermarkPs)
        {
            tag = _tags[_head++];
            _lastReleased = tag.TimePs;
            if (_head == _tail) _head = _tail = 0;
            return true;
        }
        tag = default;
        return false;
    }

    public void Clear()
    {
        _head = _tail = 0;
        _lastReleased = long.MinValue;
    }

    private void MakeRoom()
    {
        int count = _tail - _head;
        if (count > _tags.Length / 2) Array.Resize(ref _tags, _tags.Length * 2);
        Array.Copy(_tags, _head, _tags, 0, count);
        _head = 0;
        _tail = count;
    }
}
