using Qkd.Core.TimeTags;

namespace Qkd.Emulation.Tests.Firmware;

/// <summary>A physics stand-in: hands out a fixed list of tags in chunks, then reports the end (0).</summary>
internal sealed class ListTagSource(IReadOnlyList<TimeTag> tags, int chunk = 1000) : ITimeTagSource
{
    private int _next;

    public string Name => "list";

    public int Read(Span<TimeTag> destination, CancellationToken cancellationToken = default)
    {
        int n = Math.Min(Math.Min(chunk, destination.Length), tags.Count - _next);
        for (int i = 0; i < n; i++) destination[i] = tags[_next + i];
        _next += n;
        return n;
    }
}

/// <summary>A physics stand-in the test releases tag by tag: Read blocks until tags are released (or the end is declared).</summary>
internal sealed class GatedTagSource : ITimeTagSource
{
    private readonly object _gate = new();
    private readonly Queue<TimeTag> _released = new();
    private bool _ended;

    public string Name => "gated";

    public void Release(IEnumerable<TimeTag> tags)
    {
        lock (_gate)
        {
            foreach (TimeTag tag in tags) _released.Enqueue(tag);
            Monitor.PulseAll(_gate);
        }
    }

    public void End()
    {
        lock (_gate)
        {
            _ended = true;
            Monitor.PulseAll(_gate);
        }
    }

    public int Read(Span<TimeTag> destination, CancellationToken cancellationToken = default)
    {
        using CancellationTokenRegistration wake = cancellationToken.Register(() =>
        {
            lock (_gate) Monitor.PulseAll(_gate);
        });
        lock (_gate)
        {
            while (_released.Count == 0 && !_ended)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Monitor.Wait(_gate);
            }
            int n = 0;
            while (n < destination.Length && _released.TryDequeue(out TimeTag tag)) destination[n++] = tag;
            return n;
        }
    }

    /// <summary>Tags every <paramref name="spacingPs"/> from <paramref name="startPs"/>, cycling over channels 0..channels-1.</summary>
    public static IEnumerable<TimeTag> Ramp(long startPs, int count, long spacingPs, int channels = 1) =>
        Enumerable.Range(0, count).Select(i => new TimeTag(startPs + i * spacingPs, (ushort)(i % channels)));
}
