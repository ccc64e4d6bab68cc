namespace Qkd.Core.Random;

/// <summary>
/// An <see cref="IEntropySource"/> refused key material, so key generation stops: the source failed its health tests,
/// is disconnected, or gave nothing in time. The message names the source, the operation and the cause; it never
/// carries entropy or key material.
/// </summary>
public sealed class EntropySourceUnavailableException(string source, string operation, string? cause, Exception? inner = null)
    : Exception($"{source}: {operation} refused: {cause ?? "the entropy source is not healthy"}; key generation resumes when the source is healthy again", inner)
{
    /// <summary>The source, as <see cref="IEntropySource.Description"/> names it.</summary>
    public string EntropySource { get; } = source;

    public string Operation { get; } = operation;

    /// <summary>Why the source is unavailable (the test that tripped, the fault, a disconnect).</summary>
    public string? Cause { get; } = cause;
}
