using System.Security.Cryptography;

namespace Qkd.Core.Random;

/// <summary>
/// The OS CSPRNG (<see cref="RandomNumberGenerator"/>) as an <see cref="IEntropySource"/>: always healthy (the OS
/// checks its own sources), the default when a node names no QRNG.
/// </summary>
public sealed class OsEntropySource : IEntropySource
{
    public static OsEntropySource Instance { get; } = new();

    private OsEntropySource()
    {
    }

    public string Description => "the OS CSPRNG";

    public bool IsHealthy => true;

    public string? Alarm => null;

    public void FillKeyMaterial(Span<byte> destination) => RandomNumberGenerator.Fill(destination);

    public Task WaitUntilHealthyAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;
}
