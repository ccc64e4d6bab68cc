using Qkd.Core.TimeTags;

namespace Qkd.Hardware.Tests.Drivers;

/// <summary>
/// Physics for the emulated tagger in driver tests: a fixed list of tags, handed out in small batches. With a hold point
/// the physics stops at that tag until <see cref="Release"/>, so a test can act (pull the cable) while the stream is
/// certainly still running, whatever the thread scheduling.
/// </summary>
internal sealed class ListTagSource(TimeTag[] tags, int batch = 1000, int holdAt = int.MaxValue) : ITimeTagSource
{
    private readonly ManualResetEventSlim _released = new(holdAt >= tags.Length);
    private int _next;

    public string Name => "list";

    public int Read(Span<TimeTag> destination, CancellationToken cancellationToken = default)
    {
        if (_next >= holdAt) _released.Wait(cancellationToken);
        int limit = _next < holdAt ? holdAt : tags.Length;
        int n = Math.Min(Math.Min(destination.Length, batch), limit - _next);
        tags.AsSpan(_next, n).CopyTo(destination);
        _next += n;
        return n;
    }

    /// <summary>Lets the physics go on past the hold point.</summary>
    public void Release() => _released.Set();

    /// <summary>Tags 0..count-1: every 1000 ps, on inputs 1..4 in turn.</summary>
    public static TimeTag[] Regular(int count) =>
        Enumerable.Range(0, count).Select(i => new TimeTag(1_000_000 + i * 1000L, (ushort)(1 + i % 4))).ToArray();
}
