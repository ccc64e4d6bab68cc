namespace Qkd.Acquisition.Loop;

/// <summary>How an acquisition loop runs its thread.</summary>
public sealed record AcquisitionLoopOptions
{
    /// <summary>
    /// Tags read from the source per call; also the largest batch written to the ring at once (a loop with its own
    /// thread). 16384 (55 µs of a 300 M tags/s stream) holds a whole chunk of a recording (8192 tags), which the file
    /// reader then decodes straight into the ring.
    /// </summary>
    public int BatchSize { get; init; } = 1 << 14;

    /// <summary>CPU to pin the loop's thread to (Linux), or null to let the scheduler choose. A source that drains itself (a tagger driver) runs on its own thread: nothing is pinned then.</summary>
    public int? PinToCpu { get; init; }

    /// <summary>Run the thread above normal priority so a busy machine delays the tagger's drain less.</summary>
    public bool AboveNormalPriority { get; init; } = true;

    /// <summary>How long the loop waits before asking a disconnected source again (each ask tries to reconnect).</summary>
    public TimeSpan ReconnectInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    public void Validate()
    {
        if (ReconnectInterval < TimeSpan.Zero || ReconnectInterval > TimeSpan.FromMinutes(10))
            throw new ArgumentException($"ReconnectInterval must lie in [0, 10 min], got {ReconnectInterval}.");
        if (BatchSize < 1 || BatchSize > 1 << 24)
            throw new ArgumentException($"BatchSize must lie in [1, 16777216], got {BatchSize}.");
        if (PinToCpu is int cpu && (cpu < 0 || cpu >= Environment.ProcessorCount))
            throw new ArgumentException($"PinToCpu must name one of this machine's {Environment.ProcessorCount} CPUs (0..{Environment.ProcessorCount - 1}), got {cpu}.");
    }
}
