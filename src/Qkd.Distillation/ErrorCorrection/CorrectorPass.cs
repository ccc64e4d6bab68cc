using System.Runtime.CompilerServices;
using Qkd.Core.Bits;

namespace Qkd.Distillation.ErrorCorrection;

/// <summary>
/// Bob's state for one started pass: his bits in the pass order (kept in sync with every correction), his current
/// parity of every block, every parity of Alice's that he has learned or deduced for the pass's search trees, and
/// the blocks whose error parity has turned odd and still wait for a binary search.
/// </summary>
internal sealed class CorrectorPass
{
    private readonly ulong[] _known;       // per tree node: is Alice's parity known?
    private readonly ulong[] _alice;       // per tree node: Alice's parity (valid where known)
    private readonly ulong[] _bobBlocks;   // per block: Bob's current parity
    private readonly ulong[] _pendingFlag; // per block: already in _pending
    private readonly int[] _pending;
    private int _pendingCount;

    public CorrectorPass(int index, CascadePassLayout layout, CascadePermutation permutation, ReadOnlySpan<ulong> frameWords)
    {
        Index = index;
        Layout = layout;
        Permutation = permutation;
        Bits = new ulong[PackedBits.WordCount(layout.FrameLength)];
        permutation.Apply(frameWords, Bits);

        long nodes = (long)layout.BlockCount * layout.TreeSlots;
        _known = new ulong[(nodes + 63) >> 6];
        _alice = new ulong[(nodes + 63) >> 6];
        _bobBlocks = new ulong[(layout.BlockCount + 63) >> 6];
        _pendingFlag = new ulong[(layout.BlockCount + 63) >> 6];
        _pending = new int[layout.BlockCount];
        for (int b = 0; b < layout.BlockCount; b++)
            if (PackedBits.RangeParity(Bits, layout.BlockStart(b), layout.BlockLength(b)) != 0)
                _bobBlocks[b >> 6] |= 1UL << (b & 63);
    }

    public int Index { get; }

    public CascadePassLayout Layout { get; }

    public CascadePermutation Permutation { get; }

    /// <summary>Bob's bits in this pass's order.</summary>
    public ulong[] Bits { get; }

    public int PendingCount => _pendingCount;

    /// <summary>Global tree-node index of heap node <paramref name="node"/> of block <paramref name="block"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int NodeIndex(int block, int node) => block * Layout.TreeSlots + node;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool IsKnown(int nodeIndex) => ((_known[nodeIndex >> 6] >> (nodeIndex & 63)) & 1) != 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int AliceParity(int nodeIndex) => (int)((_alice[nodeIndex >> 6] >> (nodeIndex & 63)) & 1);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void SetAliceParity(int nodeIndex, int parity)
    {
        ulong mask = 1UL << (nodeIndex & 63);
        _known[nodeIndex >> 6] |= mask;
        if (parity != 0) _alice[nodeIndex >> 6] |= mask;
        else _alice[nodeIndex >> 6] &= ~mask;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int BobBlockParity(int block) => (int)((_bobBlocks[block >> 6] >> (block & 63)) & 1);

    /// <summary>Alice's parity of the block is known and differs from Bob's: the block holds an odd number of errors.</summary>
    public bool IsOdd(int block)
    {
        int root = NodeIndex(block, 1);
        return IsKnown(root) && (AliceParity(root) ^ BobBlockParity(block)) != 0;
    }

    /// <summary>Flips Bob's bit at pass position <paramref name="position"/> and queues its block if it turned odd.</summary>
    public void Flip(int position)
    {
        Bits[position >> 6] ^= 1UL << (position & 63);
        int block = position / Layout.BlockSize;
        _bobBlocks[block >> 6] ^= 1UL << (block & 63);
        if (IsOdd(block)) Enqueue(block);
    }

    public void Enqueue(int block)
    {
        ulong mask = 1UL << (block & 63);
        if ((_pendingFlag[block >> 6] & mask) != 0) return;
        _pendingFlag[block >> 6] |= mask;
        _pending[_pendingCount++] = block;
    }

    /// <summary>Drops queued blocks whose error parity has turned even again (a later correction hit them twice).</summary>
    public void DiscardEvenPending()
    {
        int kept = 0;
        for (int i = 0; i < _pendingCount; i++)
        {
            int block = _pending[i];
            if (IsOdd(block)) _pending[kept++] = block;
            else _pendingFlag[block >> 6] &= ~(1UL << (block & 63));
        }
        _pendingCount = kept;
    }

    /// <summary>Moves the queued blocks into <paramref name="destination"/> and empties the queue.</summary>
    public int DrainPending(Span<int> destination)
    {
        int count = _pendingCount;
        _pending.AsSpan(0, count).CopyTo(destination);
        for (int i = 0; i < count; i++)
            _pendingFlag[_pending[i] >> 6] &= ~(1UL << (_pending[i] & 63));
        _pendingCount = 0;
        return count;
    }
}
