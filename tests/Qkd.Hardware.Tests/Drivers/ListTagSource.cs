using Qkd.Core.TimeTags;

namespace Qkd.Hardware.Tests.Drivers;

/// <summary>Physics for the emulated tagger in driver tests: a fixed list of tags, handed out in small batches.</summary>
internal sealed class ListTagSource(TimeTag[] tags, int batch = 1000) : ITimeTagSource
{
    private int _next;

    public string Name => "list";

    public int Read(Span<TimeTag> destination, CancellationToken cancellationToken = default)
    {
        int n = Math.Min(Math.Min(destination.Length, batch), tags.Length - _next);
        tags.AsSpan(_next, n).CopyTo(destination);
        _next += n;
        return n;
    }

    /// <summary>Tags 0..count-1: every 1000 ps, on inputs 1..4 in turn.</summary>
    public static TimeTag[] Regular(int count) =>
        Enumerable.Range(0, count).Select(i => new TimeTag(1_000_000 + i * 1000L, (ushort)(1 + i % 4))).ToArray();
}
