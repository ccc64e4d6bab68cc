namespace Qkd.Distillation.ErrorCorrection.Ldpc;

/// <summary>
/// How one frame rides on a mother code: its key bits on <see cref="KeyPositions"/>, <see cref="Punctured"/>
/// variables Alice fills with fresh secret random bits (Bob knows nothing of them), <see cref="Shortened"/>
/// variables fixed to 0 (both know them), so that the effective rate (k - s) / (n - p - s) follows the QBER with one
/// matrix (Elkouss, Martinez-Mateo, Lancho and Martin 2010). Then the blind rounds' order
/// (<see cref="RevealPosition"/>): the punctured variables, last punctured first, then key bits.
/// </summary>
/// <remarks>
/// Leakage: the syndrome has <see cref="QuasiCyclicCode.Checks"/> bits, but p of them only pay for the punctured
/// bits: the punctured set is untainted, so its columns are independent and, given the key and the syndrome, the
/// punctured bits are determined. The syndrome therefore tells at most checks - p bits about the key
/// (H_min(K | S E) >= H_min(K | E) - (checks - p)); each revealed bit then costs one more.
/// </remarks>
public sealed class LdpcFramePlan
{
    private LdpcFramePlan(QuasiCyclicCode code, int profile, int keyBits, int punctured, int[] keyPositions, int stepBits)
    {
        Code = code;
        Profile = profile;
        KeyBits = keyBits;
        Punctured = punctured;
        Shortened = code.Length - keyBits - punctured;
        KeyPositions = keyPositions;
        StepBits = stepBits;
    }

    public QuasiCyclicCode Code { get; }

    /// <summary>Index of the mother code in <see cref="LdpcCodeFamily.Profiles"/>.</summary>
    public int Profile { get; }

    public int KeyBits { get; }

    public int Punctured { get; }

    public int Shortened { get; }

    /// <summary>Variable of each key bit, increasing.</summary>
    public int[] KeyPositions { get; }

    /// <summary>Bits the first blind round reveals.</summary>
    public int StepBits { get; }

    /// <summary>The syndrome's leakage: its bits less the punctured ones.</summary>
    public int SyndromeLeakBits => Code.Checks - Punctured;

    /// <summary>Bits that blind rounds can reveal in all: every punctured bit and every key bit.</summary>
    public int RevealableBits => Punctured + KeyBits;

    public static LdpcFramePlan Create(QuasiCyclicCode code, int profile, int keyBits, int punctured, double qber, LdpcOptions options)
    {
        ArgumentNullException.ThrowIfNull(code);
        if (keyBits < 1 || keyBits > code.Length) throw new ArgumentOutOfRangeException(nameof(keyBits));
        if (punctured < 0 || punctured > code.PunctureOrder.Length || keyBits + punctured > code.Length)
            throw new ArgumentOutOfRangeException(nameof(punctured), punctured, $"At most {Math.Min(code.PunctureOrder.Length, code.Length - keyBits)} variables can be punctured.");
        int shortened = code.Length - keyBits - punctured;
        var keyPositions = code.PositionOrder.AsSpan(punctured + shortened).ToArray();
        Array.Sort(keyPositions);
        int step = (int)Math.Max(1, Math.Ceiling(options.RevealStepFraction * keyBits * BinaryEntropy.H2(qber)));
        return new LdpcFramePlan(code, profile, keyBits, punctured, keyPositions, step);
    }

    /// <summary>Variable of the <paramref name="index"/>-th revealed bit: punctured ones last-first, then key bits.</summary>
    public int RevealPosition(int index)
    {
        if ((uint)index >= (uint)RevealableBits) throw new ArgumentOutOfRangeException(nameof(index));
        return index < Punctured ? Code.PositionOrder[Punctured - 1 - index] : Code.PositionOrder[Punctured + Shortened + (index - Punctured)];
    }

    /// <summary>
    /// Bits the next blind round reveals after <paramref name="revealed"/>: <see cref="StepBits"/> while punctured
    /// bits remain, then as many key bits as revealed so far (doubling), so a frame is known in full after
    /// O(log n) rounds at worst.
    /// </summary>
    public int NextRevealCount(int revealed)
    {
        int remaining = RevealableBits - revealed;
        if (remaining <= 0) return 0;
        int count = revealed < Punctured ? StepBits : Math.Max(StepBits, revealed - Punctured);
        return Math.Min(count, remaining);
    }
}
