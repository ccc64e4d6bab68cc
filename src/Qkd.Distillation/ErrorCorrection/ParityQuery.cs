namespace Qkd.Distillation.ErrorCorrection;

/// <summary>
/// Bob's request for Alice's parity of positions [<see cref="Start"/>, <see cref="Start"/> + <see cref="Length"/>)
/// of pass <see cref="Pass"/>'s permuted order. The query itself carries no key information; only the answer does.
/// </summary>
public readonly record struct ParityQuery(int Pass, int Start, int Length);
