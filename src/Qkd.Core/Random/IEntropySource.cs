namespace Qkd.Core.Random;

/// <summary>
/// Where a session's secret generators get their keys: the question a node asks before and during key generation,
/// "may I generate, and give me key material". Implementations: <see cref="OsEntropySource"/> (the OS CSPRNG alone,
/// always available) and the node's QRNG source (a QRNG's health-checked entropy mixed with the OS CSPRNG, refused
/// while the QRNG fails its health tests or is gone). Key material never reaches a log, a report or an exception.
/// </summary>
public interface IEntropySource
{
    /// <summary>Names the source for logs and errors ("random number generator QRNG-0005 (...) mixed with the OS CSPRNG").</summary>
    string Description { get; }

    /// <summary>May key material be drawn now (the source passes its health tests and is present)?</summary>
    bool IsHealthy { get; }

    /// <summary>Why the source is not healthy (names the device and the test or fault); null while it is.</summary>
    string? Alarm { get; }

    /// <summary>
    /// Fills <paramref name="destination"/> with fresh, uniformly random key material, different on every call. Either
    /// the whole span is filled or the call throws with the span zeroed.
    /// </summary>
    /// <exception cref="EntropySourceUnavailableException">The source is not healthy (or gave nothing in time).</exception>
    void FillKeyMaterial(Span<byte> destination);

    /// <summary>Completes once <see cref="IsHealthy"/> is true (at once if it is): generation may resume.</summary>
    Task WaitUntilHealthyAsync(CancellationToken cancellationToken = default);
}
