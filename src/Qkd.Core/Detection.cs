namespace Qkd.Core;

/// <summary>
/// A click interpreted as a BB84 measurement result: the pulse it belongs to, the basis Bob measured in and
/// the bit he obtained (multi-clicks already squashed to a random bit).
/// </summary>
public readonly record struct Detection(long PulseIndex, Basis Basis, byte Bit);
