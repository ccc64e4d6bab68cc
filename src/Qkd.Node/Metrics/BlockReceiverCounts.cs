using Qkd.Acquisition;
using Qkd.Distillation;
using Qkd.Monitoring;

namespace Qkd.Node.Metrics;

/// <summary>
/// The receiver's counts over one finished block's stretch of the pulse stream, for the link monitor: clicks per
/// detector (tags clock recovery placed on a pulse, in or out of the gate), in-gate and off-gate tags, pulse slots and
/// arrival offsets, taken from clock recovery's <see cref="GateCountHistory"/> at the block's last pulse. Not from the
/// live counters: when the block is observed (on the distiller's thread, possibly blocks after it was sifted) the
/// acquisition has run on by an amount that depends on thread timing, and a clean block's interval then took in the
/// light after it (issue 15). The same seeded run gives the same intervals on a quiet machine and a loaded one.
/// </summary>
public static class BlockReceiverCounts
{
    /// <summary>
    /// The interval since the previous block taken through <paramref name="counts"/>; null when the block has no pulse
    /// range, when clock recovery's history no longer holds its end (the reader fell a ring behind; counted in
    /// <see cref="GateCountHistory.LateReads"/>) or when no pulse slot passed.
    /// </summary>
    /// <param name="pulseOffset">Alice's pulse index minus clock recovery's (frame synchronisation's offset; 0 without a pilot).</param>
    public static ReceiverInterval? Take(ReceiverCounts counts, TimeTagFrontEnd frontEnd, BlockResult block, long pulseOffset)
    {
        ArgumentNullException.ThrowIfNull(counts);
        ArgumentNullException.ThrowIfNull(frontEnd);
        ArgumentNullException.ThrowIfNull(block);
        if (block.LastPulse < 0) return null;
        if (frontEnd.Clock.GateHistory.At(block.LastPulse - pulseOffset) is not { } at) return null;
        var clicks = new long[at.InGate.Length];
        for (int d = 0; d < clicks.Length; d++) clicks[d] = at.InGate[d] + at.OutOfGate[d];
        return counts.Take(clicks, at.InGate.Sum(), at.OutOfGate.Sum(), at.Pulse, new ArrivalSums(at.InGate, at.OffsetSumPs, at.OffsetSquaresPs2));
    }
}
