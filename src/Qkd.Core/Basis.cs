namespace Qkd.Core;

/// <summary>The two conjugate BB84 bases. Z carries the key, X tests for eavesdropping.</summary>
public enum Basis : byte
{
    Z = 0,
    X = 1,
}
