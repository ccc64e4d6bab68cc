using System.Numerics;

namespace Qkd.Distillation.Sifting;

/// <summary>
/// Bob's bookkeeping of where blocks end in sifting order: a full block is the next <see cref="BlockSizeBits"/> Z
/// records, and takes the X records sifted before its last Z record; its light time runs from the pulse after the
/// previous block's last Z record to its own. Fed with <see cref="SiftKernel.Sort"/>'s selections, 64 detections a
/// step: only a word in which a block closes is looked at record by record.
/// </summary>
internal sealed class BlockBoundaries(long blockSizeBits)
{
    public long BlockSizeBits { get; } = blockSizeBits;

    /// <summary>Z and X records sifted so far.</summary>
    public long ZAppended { get; private set; }

    public long XAppended { get; private set; }

    /// <summary>The pulse the current block's light starts at (-1 before the first Z record).</summary>
    public long BlockStartPulse { get; set; } = -1;

    /// <summary>The pulse of the last Z record (-1 before the first).</summary>
    public long LastZPulse { get; private set; } = -1;

    /// <summary>Per full block not yet distilled: the X records sifted before its last Z record.</summary>
    public Queue<long> XTotalAtBlockEnd { get; } = new();

    /// <summary>Per full block not yet distilled: the pulse of its last Z record.</summary>
    public Queue<long> PulseAtBlockEnd { get; } = new();

    /// <param name="selected">Two words per 64 detections, which became Z records and which X (<see cref="SiftKernel.Sort"/>).</param>
    /// <param name="pulses">The batch's pulse indices.</param>
    public void Advance(ReadOnlySpan<ulong> selected, ReadOnlySpan<long> pulses)
    {
        for (int word = 0; 64 * word < pulses.Length; word++)
        {
            ulong z = selected[2 * word], x = selected[2 * word + 1];
            if (z != 0)
            {
                int first = 64 * word;
                if (BlockStartPulse < 0) BlockStartPulse = pulses[first + BitOperations.TrailingZeroCount(z)];
                LastZPulse = pulses[first + 63 - BitOperations.LeadingZeroCount(z)];
                int n = BitOperations.PopCount(z);
                // Blocks that close inside this word: the Z record that completes each, and the X records before it.
                long untilBlockEnd = BlockSizeBits - ZAppended % BlockSizeBits;
                while (untilBlockEnd <= n)
                {
                    int index = BitOperations.TrailingZeroCount(NthSetBit(z, (int)untilBlockEnd));
                    XTotalAtBlockEnd.Enqueue(XAppended + BitOperations.PopCount(x & ((1UL << index) - 1)));
                    PulseAtBlockEnd.Enqueue(pulses[first + index]);
                    untilBlockEnd += BlockSizeBits;
                }
                ZAppended += n;
            }
            XAppended += BitOperations.PopCount(x);
        }
    }

    /// <summary>The <paramref name="n"/>-th (from 1) set bit of <paramref name="mask"/>, alone.</summary>
    private static ulong NthSetBit(ulong mask, int n)
    {
        for (int i = 1; i < n; i++) mask &= mask - 1;
        return mask & (0 - mask);
    }
}
