using System.Runtime.InteropServices;

namespace Qkd.Core.Rings;

/// <summary>
/// The spacing between cursors written by different threads. 128 bytes rather than one 64-byte line because x86
/// cores prefetch cache lines in adjacent pairs, which makes neighbours 64 bytes apart still false-share.
/// </summary>
internal static class CursorPadding
{
    public const int Bytes = 128;
}

/// <summary>
/// The hot fields of <see cref="SpscRing{T}"/> in one explicitly laid out block (a generic class cannot have an
/// explicit layout itself). Each thread's fields sit on their own padded lines: the producer writes only the producer
/// line, the consumer only the consumer line, and each keeps a private copy of the other's cursor so that it reads
/// the contended line only when its copy says the ring looks full (or empty).
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 3 * CursorPadding.Bytes)]
internal struct SpscCursors
{
    // Producer line: written by the producer only.
    [FieldOffset(CursorPadding.Bytes)] public long ProducerSequence;
    [FieldOffset(CursorPadding.Bytes + 8)] public long CachedConsumerSequence;
    [FieldOffset(CursorPadding.Bytes + 16)] public long Dropped;
    [FieldOffset(CursorPadding.Bytes + 24)] public int Completed;

    // Consumer line: written by the consumer only.
    [FieldOffset(2 * CursorPadding.Bytes)] public long ConsumerSequence;
    [FieldOffset(2 * CursorPadding.Bytes + 8)] public long CachedProducerSequence;
}

/// <summary>
/// The hot fields of <see cref="MpscRing{T}"/>: the claim line contended by the producers, a line for the rarely
/// written drop counter and completion flag (so drops under contention do not slow down claims), and the consumer line.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 4 * CursorPadding.Bytes)]
internal struct MpscCursors
{
    // Claim line: shared by the producers.
    [FieldOffset(CursorPadding.Bytes)] public long ClaimSequence;
    [FieldOffset(CursorPadding.Bytes + 8)] public long CachedConsumerSequence;

    // Rarely written producer state.
    [FieldOffset(2 * CursorPadding.Bytes)] public long Dropped;
    [FieldOffset(2 * CursorPadding.Bytes + 8)] public int Completed;

    // Consumer line: written by the consumer only.
    [FieldOffset(3 * CursorPadding.Bytes)] public long ConsumerSequence;
    [FieldOffset(3 * CursorPadding.Bytes + 8)] public long CachedClaimSequence;
}
