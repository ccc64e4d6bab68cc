using System.Numerics;
using System.Runtime.CompilerServices;
using Qkd.Core.Bits;

namespace Qkd.Distillation.ErrorCorrection;

/// <summary>
/// Bob's state for one started pass: his bits in the pass order (kept in sync with every correction), his current
/// parity of every block, and every parity of Alice's that he has learned or deduced, stored in one search tree
/// per block (heap-numbered: root 1, children of h are 2h and 2h + 1, see <see cref="CascadePassLayout"/>).
/// Blocks are flagged while a binary search runs in them or while they wait in a cascade chain, so that no block
/// is ever searched twice at the same time. The permuted copy is built only when a search needs it: the block
/// parities of a final pass come straight from its subset mask, and most final passes never search.
/// </summary>
internal sealed class CorrectorPass
{
    private readonly ulong[] _rootKnown;  // per block: Alice's block parity known
    private readonly ulong[] _rootAlice;  // per block: Alice's block parity
    // Per tree node below the root, two adjacent bits: known (2i) and Alice's parity (2i + 1), so that a search step
    // reads one word, not one in each of two arrays (the trees outgrow the caches). Allocated on the first search.
    private ulong[]? _tree;
    private readonly ulong[] _bobBlocks;  // per block: Bob's current parity
    private readonly ulong[] _searching;  // per block: a binary search is under way
    private readonly ulong[] _touched;    // per block: flipped since its search last looked
    private readonly ulong[] _waiting;     // per block: queued in a cascade chain

    private readonly PackedBits _frame;   // Bob's frame in frame order, corrected in place by the corrector
    // Every correction is followed into every started pass: the common permutation is called directly (no virtual
    // call, inlined) and a power-of-two block size divides by a shift.
    private readonly TransposeMixPermutation? _mix;
    private readonly int _blockShift;     // log2 of the block size, or -1 when it is not a power of two
    private ulong[]? _bits;               // Bob's bits in this pass's order, kept in sync once built

    internal ulong[]? PassBitsIfBuilt => _bits;

    /// <summary>
    /// Overwrites Bob's bits in pass order (raw key) and his block parities with zeros, and hands the large arrays
    /// back to <see cref="CascadeBuffers"/>: the pass is not used afterwards.
    /// </summary>
    public void Zeroise()
    {
        if (_bits is not null) CascadeBuffers.Return(_bits);
        _bits = null;
        if (_tree is not null) CascadeBuffers.Return(_tree);
        _tree = null;
        Array.Clear(_bobBlocks);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public CorrectorPass(int index, CascadePassLayout layout, CascadePermutation permutation, PackedBits frame)
    {
        Index = index;
        Layout = layout;
        Permutation = permutation;
        _frame = frame;
        _mix = permutation as TransposeMixPermutation;
        _blockShift = BitOperations.IsPow2(layout.BlockSize) ? BitOperations.Log2((uint)layout.BlockSize) : -1;

        int blockWords = (layout.BlockCount + 63) >> 6;
        _rootKnown = new ulong[blockWords];
        _rootAlice = new ulong[blockWords];
        _bobBlocks = new ulong[blockWords];
        _searching = new ulong[blockWords];
        _touched = new ulong[blockWords];
        _waiting = new ulong[blockWords];
        if (permutation is HalfSubsetPermutation subset && layout.BlockCount == 2 && subset.TryHalfParities(frame.Words, layout.BlockSize, out int first, out int second))
            _bobBlocks[0] = (uint)first | ((ulong)(uint)second << 1);
        else
            BlockParities(Bits, layout, _bobBlocks);
    }

    /// <summary>Bob's parity of every block, from his bits in pass order: a run of whole words per block when the
    /// block size is a multiple of 64 (bits past the frame are zero), else range by range.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BlockParities(ulong[] bits, CascadePassLayout layout, ulong[] parities)
    {
        int blockSize = layout.BlockSize, blocks = layout.BlockCount;
        if ((blockSize & 63) == 0)
        {
            int wordsPerBlock = blockSize >> 6, words = PackedBits.WordCount(layout.FrameLength);
            for (int b = 0, w = 0; b < blocks; b++)
            {
                ulong accumulator = 0;
                for (int end = Math.Min(w + wordsPerBlock, words); w < end; w++) accumulator ^= bits[w];
                parities[b >> 6] |= (ulong)(BitOperations.PopCount(accumulator) & 1) << (b & 63);
            }
            return;
        }
        for (int b = 0; b < blocks; b++)
            if (PackedBits.RangeParity(bits, layout.BlockStart(b), layout.BlockLength(b)) != 0)
                parities[b >> 6] |= 1UL << (b & 63);
    }

    public int Index { get; }

    public CascadePassLayout Layout { get; }

    public CascadePermutation Permutation { get; }

    /// <summary>Bob's bits in this pass's order (built from the current frame on first use).</summary>
    public ulong[] Bits
    {
        get
        {
            if (_bits is null)
            {
                var bits = CascadeBuffers.Rent(PackedBits.WordCount(Layout.FrameLength));
                Permutation.Apply(_frame.Words, bits);
                _bits = bits;
            }
            return _bits;
        }
    }

    /// <summary>Records Alice's parity of a whole block.</summary>
    public void SetBlockParity(int block, int parity)
    {
        ulong mask = 1UL << (block & 63);
        _rootKnown[block >> 6] |= mask;
        if (parity != 0) _rootAlice[block >> 6] |= mask;
        else _rootAlice[block >> 6] &= ~mask;
    }

    /// <summary>Whether Alice's parity of tree node <paramref name="node"/> of <paramref name="block"/> is known.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool IsKnown(int block, int node)
    {
        if (node == 1) return Test(_rootKnown, block);
        return _tree is not null && Test(_tree, 2 * NodeIndex(block, node));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int AliceParity(int block, int node) =>
        node == 1 ? Get(_rootAlice, block) : Get(_tree!, 2 * NodeIndex(block, node) + 1);

    /// <summary>Records Alice's parity of tree node <paramref name="node"/> (below the root) of <paramref name="block"/>.</summary>
    public void SetAliceParity(int block, int node, int parity)
    {
        EnsureTrees();
        int index = NodeIndex(block, node);
        int shift = (index & 31) << 1;
        _tree![index >> 5] = (_tree[index >> 5] & ~(3UL << shift)) | ((ulong)(1 | (parity << 1)) << shift);
    }

    /// <summary>
    /// Records Alice's parity of the left child of <paramref name="node"/> and the right child's, which follows
    /// from the node's. Siblings 2h and 2h + 1 share a word, so both are written at once.
    /// </summary>
    public void SetChildParities(int block, int node, int leftParity)
    {
        int right = leftParity ^ AliceParity(block, node);
        EnsureTrees();
        int index = NodeIndex(block, 2 * node);
        int shift = (index & 31) << 1;
        // The left child's index is even, so the four bits start at a multiple of 4 and share one word.
        _tree![index >> 5] = (_tree[index >> 5] & ~(15UL << shift)) | ((ulong)(1 | (leftParity << 1) | 4 | (right << 3)) << shift);
    }

    /// <summary>Alice's parity of the block is known and differs from Bob's: the block holds an odd number of errors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool IsOdd(int block) => Test(_rootKnown, block) && (Get(_rootAlice, block) ^ Get(_bobBlocks, block)) != 0;

    /// <summary>
    /// Follows the correction of frame bit <paramref name="original"/> (at pass position
    /// <paramref name="position"/>, or -1 if not known yet) into this pass. Returns the block if it turned odd and
    /// is neither being searched nor waiting (the caller then owns it), else -1; a block under search is flagged as
    /// touched instead, for its search to re-check.
    /// </summary>
    public int Flip(int original, int position)
    {
        int block;
        if (_bits is null)
        {
            // Not built yet: it will be built from the corrected frame; only the block parity changes now.
            block = _mix is { } mix ? BlockOf(mix.ToPermutedUnchecked(original)) : Permutation.BlockOfUnchecked(original, Layout.BlockSize);
        }
        else
        {
            if (position < 0) position = _mix is { } mix ? mix.ToPermutedUnchecked(original) : Permutation.ToPermutedUnchecked(original);
            _bits[position >> 6] ^= 1UL << (position & 63);
            block = BlockOf(position);
        }
        ulong mask = 1UL << (block & 63);
        _bobBlocks[block >> 6] ^= mask;
        if ((_searching[block >> 6] & mask) != 0)
        {
            _touched[block >> 6] |= mask;
            return -1;
        }
        if ((_waiting[block >> 6] & mask) != 0 || !IsOdd(block)) return -1;
        _waiting[block >> 6] |= mask;
        return block;
    }

    /// <summary>Claims an odd block found when the pass opens, as if a correction had turned it odd.</summary>
    public void Claim(int block) => _waiting[block >> 6] |= 1UL << (block & 63);

    /// <summary>Releases a waiting block; returns whether it is still odd (else it needs no search any more).</summary>
    public bool Release(int block)
    {
        _waiting[block >> 6] &= ~(1UL << (block & 63));
        return IsOdd(block);
    }

    /// <summary>Marks a search under way in <paramref name="block"/>.</summary>
    public void BeginSearch(int block)
    {
        _searching[block >> 6] |= 1UL << (block & 63);
        _touched[block >> 6] &= ~(1UL << (block & 63));
    }

    /// <summary>
    /// Ends the search in <paramref name="block"/>. Returns true if the block is still odd (a correction from
    /// another search hit it in the same round), in which case it is claimed again for the caller to queue.
    /// </summary>
    public bool EndSearch(int block)
    {
        ulong mask = 1UL << (block & 63);
        _searching[block >> 6] &= ~mask;
        _touched[block >> 6] &= ~mask;
        if (!IsOdd(block)) return false;
        _waiting[block >> 6] |= mask;
        return true;
    }

    /// <summary>Whether a bit of <paramref name="block"/> was flipped since the last call; clears the flag.</summary>
    public bool TakeTouched(int block)
    {
        ulong mask = 1UL << (block & 63);
        bool touched = (_touched[block >> 6] & mask) != 0;
        _touched[block >> 6] &= ~mask;
        return touched;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int BlockOf(int position) => _blockShift >= 0 ? position >> _blockShift : position / Layout.BlockSize;

    private void EnsureTrees()
    {
        if (_tree is not null) return;
        // Most passes of a well-tuned schedule never search (the final passes mostly confirm), so the trees,
        // about four bits per frame bit, are only allocated when needed.
        long nodes = (long)Layout.BlockCount * Layout.TreeSlots;
        _tree = CascadeBuffers.Rent((int)((nodes + 31) >> 5));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int NodeIndex(int block, int node) => block * Layout.TreeSlots + node;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Test(ulong[] bits, int index) => ((bits[index >> 6] >> (index & 63)) & 1) != 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Get(ulong[] bits, int index) => (int)((bits[index >> 6] >> (index & 63)) & 1);
}
