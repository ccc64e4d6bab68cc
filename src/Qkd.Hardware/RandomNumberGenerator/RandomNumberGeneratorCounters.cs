namespace Qkd.Hardware.RandomNumberGenerator;

/// <summary>
/// What a random number generator's stream delivered, lost and threw away. Nothing is dropped silently: every block
/// the device numbered and every byte received is counted under exactly one fate.
/// </summary>
public sealed class RandomNumberGeneratorCounters
{
    /// <summary>RngEntropyData frames taken and their bytes.</summary>
    public long Blocks;
    public long BytesReceived;

    /// <summary>Blocks missing from the sequence (lost on the line or while disconnected).</summary>
    public long BlocksLost;

    /// <summary>Blocks received twice (sequence already seen), dropped.</summary>
    public long BlocksDuplicated;

    /// <summary>Frames with a valid CRC but a malformed payload or an offset that goes backwards (a firmware fault), dropped.</summary>
    public long BlocksInvalid;

    /// <summary>Bytes the device withheld (its own health tests failed): jumps in the blocks' offsets.</summary>
    public long BytesWithheldByDevice;

    /// <summary>Bytes handed to callers of ReadEntropy.</summary>
    public long BytesDelivered;

    /// <summary>
    /// Bytes received but never handed out because of health: tested while not healthy, held when a failure came, or
    /// taken by a read that a failure interrupted (the caller's span is zeroed).
    /// </summary>
    public long BytesDiscarded;

    /// <summary>Healthy bytes that did not fit the driver's buffer because nobody read them, dropped.</summary>
    public long BytesOverflowed;

    /// <summary>The host's health tests that tripped.</summary>
    public long RepetitionCountFailures;
    public long AdaptiveProportionFailures;

    /// <summary>Times the device reported a failure (continuous test or source fault).</summary>
    public long DeviceFailures;

    public IReadOnlyDictionary<string, long> ToDictionary() => new Dictionary<string, long>
    {
        ["blocks"] = Interlocked.Read(ref Blocks),
        ["bytesReceived"] = Interlocked.Read(ref BytesReceived),
        ["blocksLost"] = Interlocked.Read(ref BlocksLost),
        ["blocksDuplicated"] = Interlocked.Read(ref BlocksDuplicated),
        ["blocksInvalid"] = Interlocked.Read(ref BlocksInvalid),
        ["bytesWithheldByDevice"] = Interlocked.Read(ref BytesWithheldByDevice),
        ["bytesDelivered"] = Interlocked.Read(ref BytesDelivered),
        ["bytesDiscarded"] = Interlocked.Read(ref BytesDiscarded),
        ["bytesOverflowed"] = Interlocked.Read(ref BytesOverflowed),
        ["repetitionCountFailures"] = Interlocked.Read(ref RepetitionCountFailures),
        ["adaptiveProportionFailures"] = Interlocked.Read(ref AdaptiveProportionFailures),
        ["deviceFailures"] = Interlocked.Read(ref DeviceFailures),
    };
}
