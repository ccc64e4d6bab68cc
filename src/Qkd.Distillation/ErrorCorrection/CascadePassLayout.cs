using System.Numerics;

namespace Qkd.Distillation.ErrorCorrection;

/// <summary>
/// Block geometry of one pass: blocks [b k, min((b+1) k, n)) of the pass order. Binary searches split every block
/// along a power-of-two tree of span K >= k (left child = the first K/2 positions of a node), so both ends and the
/// parity cache agree on which sub-blocks exist; nodes that stick out past the block end are clipped, and a node
/// whose right part is empty has the same parity as its left child, which costs nothing to learn.
/// </summary>
internal readonly struct CascadePassLayout
{
    public CascadePassLayout(int frameLength, int blockSize)
    {
        FrameLength = frameLength;
        BlockSize = blockSize;
        BlockCount = (frameLength + blockSize - 1) / blockSize;
        TreeSpan = (int)BitOperations.RoundUpToPowerOf2((uint)blockSize);
    }

    public int FrameLength { get; }

    public int BlockSize { get; }

    public int BlockCount { get; }

    /// <summary>Power-of-two span of each block's search tree.</summary>
    public int TreeSpan { get; }

    /// <summary>Heap slots per block: nodes are numbered 1 (root) .. 2 K - 1, children of h are 2h and 2h + 1.</summary>
    public int TreeSlots => 2 * TreeSpan;

    public int BlockStart(int block) => block * BlockSize;

    public int BlockLength(int block) => Math.Min(BlockSize, FrameLength - block * BlockSize);
}
