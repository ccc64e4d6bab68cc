namespace Qkd.Core.TimeTags;

/// <summary>
/// Anything that produces time tags in batches: a time-tagger driver, the emulated tagger, a replayed file.
/// Tags come in non-decreasing time order per source. The acquisition loop calls <see cref="Read"/> from its own
/// dedicated thread, so implementations may block until data arrives.
/// </summary>
public interface ITimeTagSource
{
    /// <summary>A name for logs and errors ("emulated tagger", "replay run42.qtt", "time tagger TT-0042").</summary>
    string Name { get; }

    /// <summary>
    /// Fills <paramref name="destination"/> with the next tags and returns how many were written; 0 means the stream
    /// has ended (a file at its end, an emulated run at its duration). Never allocates per tag.
    /// </summary>
    int Read(Span<TimeTag> destination, CancellationToken cancellationToken = default);
}
