namespace Qkd.Node.Devices;

/// <summary>What a <see cref="DeviceBench"/> is for, which decides the devices it must name.</summary>
public enum BenchUse
{
    /// <summary>The whole link in one process (lab commands, HIL targets): modulator, detector and tagger.</summary>
    Link,

    /// <summary>Alice's node: her modulator; Bob's devices do not belong.</summary>
    Alice,

    /// <summary>Bob's node: his detector and tagger; Alice's modulator does not belong.</summary>
    Bob,
}
