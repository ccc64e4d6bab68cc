namespace Qkd.Distillation.ErrorCorrection;

/// <summary>
/// One protocol round of several frames' Cascade correctors, carried together: a group per frame that asked
/// something this round, in increasing frame order. Each group's queries and answer slots are the corrector's own
/// buffers, so building a round copies no query. Reused from round to round by <see cref="MultiplexedCascade"/>.
/// </summary>
public sealed class MultiplexedParityRound
{
    private readonly int[] _frames;
    private readonly ReadOnlyMemory<ParityQuery>[] _queries;
    private readonly Memory<byte>[] _parities;

    internal MultiplexedParityRound(int frameCount)
    {
        _frames = new int[frameCount];
        _queries = new ReadOnlyMemory<ParityQuery>[frameCount];
        _parities = new Memory<byte>[frameCount];
    }

    /// <summary>The most groups a round can hold: the number of frames of the block it belongs to.</summary>
    internal int Capacity => _frames.Length;

    /// <summary>Frames asking in this round (frames that finished, or did not ask, have no group).</summary>
    public int GroupCount { get; private set; }

    /// <summary>Queries in all groups together.</summary>
    public int QueryCount { get; private set; }

    /// <summary>The frame (index within the block) of group <paramref name="group"/>; increasing with the group.</summary>
    public int FrameIndex(int group) => _frames[CheckGroup(group)];

    /// <summary>The frame's queries of this round.</summary>
    public ReadOnlyMemory<ParityQuery> Queries(int group) => _queries[CheckGroup(group)];

    /// <summary>Where Alice's parities (0 or 1) for <see cref="Queries"/> go, one per query.</summary>
    public Memory<byte> Parities(int group) => _parities[CheckGroup(group)];

    internal void Clear()
    {
        Array.Clear(_queries, 0, GroupCount);
        Array.Clear(_parities, 0, GroupCount);
        GroupCount = 0;
        QueryCount = 0;
    }

    internal void Add(int frame, ReadOnlyMemory<ParityQuery> queries, Memory<byte> parities)
    {
        _frames[GroupCount] = frame;
        _queries[GroupCount] = queries;
        _parities[GroupCount] = parities;
        GroupCount++;
        QueryCount += queries.Length;
    }

    private int CheckGroup(int group)
    {
        if ((uint)group >= (uint)GroupCount)
            throw new ArgumentOutOfRangeException(nameof(group), group, $"The round has {GroupCount} groups.");
        return group;
    }
}
