namespace Qkd.Hardware.Peripherals;

/// <summary>A change of <see cref="IKeyGenerationGate.MayGenerate"/>: the new state and, when blocked, why.</summary>
public sealed class KeyGenerationGateEventArgs(bool allowed, string reason) : EventArgs
{
    public bool Allowed { get; } = allowed;

    /// <summary>Why key generation is blocked; empty when allowed.</summary>
    public string Reason { get; } = reason;
}
