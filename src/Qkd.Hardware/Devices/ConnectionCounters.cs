namespace Qkd.Hardware.Devices;

/// <summary>What one device connection did: requests, the ways they failed, and frames nobody asked for.</summary>
public sealed class ConnectionCounters
{
    public long Requests;
    public long Retries;
    public long Timeouts;
    public long Nacks;

    /// <summary>Responses whose sequence number matched no waiting request (late after a timeout, or bogus).</summary>
    public long UnmatchedResponses;

    /// <summary>Request frames received from the device (a device never sends requests).</summary>
    public long UnexpectedRequests;

    public long Events;
    public long StreamFrames;
    public long FramesSent;

    public IReadOnlyDictionary<string, long> ToDictionary() => new Dictionary<string, long>
    {
        ["requests"] = Interlocked.Read(ref Requests),
        ["retries"] = Interlocked.Read(ref Retries),
        ["timeouts"] = Interlocked.Read(ref Timeouts),
        ["nacks"] = Interlocked.Read(ref Nacks),
        ["unmatchedResponses"] = Interlocked.Read(ref UnmatchedResponses),
        ["unexpectedRequests"] = Interlocked.Read(ref UnexpectedRequests),
        ["events"] = Interlocked.Read(ref Events),
        ["streamFrames"] = Interlocked.Read(ref StreamFrames),
        ["framesSent"] = Interlocked.Read(ref FramesSent),
    };
}
