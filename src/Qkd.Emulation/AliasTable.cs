using System.Numerics;

namespace Qkd.Emulation;

/// <summary>
/// Walker's alias method (Vose's construction): samples one of a fixed set of outcomes with given weights from a
/// single 64-bit random word in O(1). The top bits choose a slot, the low 53 bits decide between the slot's own
/// outcome and its alias. The slot count is a power of two so the slot index is a shift.
/// </summary>
internal sealed class AliasTable
{
    private const ulong Low53Mask = (1UL << 53) - 1;
    private const double Two53 = 9007199254740992.0;

    private readonly Slot[] _slots;
    private readonly int _shift;

    private struct Slot
    {
        public ulong Threshold;
        public uint Outcome;
        public uint Alias;
    }

    /// <param name="weights">Non-negative weights, not necessarily normalised; at least one must be positive.</param>
    /// <param name="outcomes">The outcome returned for each weight.</param>
    public AliasTable(ReadOnlySpan<double> weights, ReadOnlySpan<uint> outcomes)
    {
        if (weights.Length != outcomes.Length)
            throw new ArgumentException($"{weights.Length} weights but {outcomes.Length} outcomes.", nameof(outcomes));
        if (weights.Length == 0 || weights.Length > 1 << 11)
            throw new ArgumentOutOfRangeException(nameof(weights), weights.Length, "An alias table holds 1 to 2048 outcomes.");
        double total = 0;
        foreach (double w in weights)
        {
            if (!(w >= 0) || double.IsPositiveInfinity(w))
                throw new ArgumentOutOfRangeException(nameof(weights), w, "Weights must be finite and non-negative.");
            total += w;
        }
        if (!(total > 0))
            throw new ArgumentException("At least one weight must be positive.", nameof(weights));

        int size = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(weights.Length, 2));
        _shift = 64 - BitOperations.Log2((uint)size);
        _slots = new Slot[size];
        Count = weights.Length;

        // Scaled probabilities: slot i keeps its own outcome with probability scaled[i] and otherwise gives its alias.
        var scaled = new double[size];
        for (int i = 0; i < weights.Length; i++)
        {
            scaled[i] = weights[i] * size / total;
            _slots[i].Outcome = outcomes[i];
        }
        var small = new Stack<int>();
        var large = new Stack<int>();
        for (int i = size - 1; i >= 0; i--)
            (scaled[i] < 1.0 ? small : large).Push(i);
        while (small.Count > 0 && large.Count > 0)
        {
            int s = small.Pop(), l = large.Pop();
            _slots[s].Threshold = (ulong)(scaled[s] * Two53);
            _slots[s].Alias = _slots[l].Outcome;
            scaled[l] = scaled[l] + scaled[s] - 1.0;
            (scaled[l] < 1.0 ? small : large).Push(l);
        }
        // Whatever is left holds probability 1 up to rounding: always its own outcome.
        foreach (int i in large)
            SetCertain(i);
        foreach (int i in small)
            SetCertain(i);
        // Padding slots beyond the outcomes have weight 0; if rounding left one "certain", point it at a real outcome.
        for (int i = weights.Length; i < size; i++)
            if (_slots[i].Threshold > 0 && weights.Length > 0)
                _slots[i].Outcome = _slots[i].Alias = outcomes[LargestIndex(weights)];
    }

    /// <summary>Number of outcomes (not slots).</summary>
    public int Count { get; }

    public uint Sample(ulong random)
    {
        ref readonly Slot slot = ref _slots[random >> _shift];
        // Branch-free select: the keep/alias decision is a coin the branch predictor cannot learn. Both operands of
        // the subtraction are at most 2^53, so its sign bit is exactly "u < threshold".
        uint keep = (uint)(((random & Low53Mask) - slot.Threshold) >> 63);
        return slot.Alias ^ ((slot.Outcome ^ slot.Alias) & (0u - keep));
    }

    private void SetCertain(int i)
    {
        _slots[i].Threshold = 1UL << 53;
        _slots[i].Alias = _slots[i].Outcome;
    }

    private static int LargestIndex(ReadOnlySpan<double> weights)
    {
        int best = 0;
        for (int i = 1; i < weights.Length; i++)
            if (weights[i] > weights[best]) best = i;
        return best;
    }
}
