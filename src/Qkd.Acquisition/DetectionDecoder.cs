using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Numerics;
using Qkd.Core;
using Qkd.Core.Random;
using Qkd.Core.Symbols;

namespace Qkd.Acquisition;

/// <summary>
/// Turns raw detector clicks into BB84 measurement results according to the receiver layout. Multi-clicks are
/// squashed: several detectors of one basis give a random bit; detectors of both bases (passive receiver) give a
/// random basis and then a bit as above. Squashing makes the receiver equivalent to a qubit measurement, which the
/// security proof assumes; assigning a fixed value instead would open a detector-side loophole. An active receiver's
/// basis comes from Bob's own choices when they are given (the tag path: the slot's pattern index is its pulse less
/// <see cref="BasisMarkerPulse"/>), else from the click (an emulator that reports the setting it drew).
/// </summary>
public sealed class DetectionDecoder
{
    private readonly ReceiverLayout _layout;
    private readonly IRandomSource _random;
    private readonly byte _validMask;
    private readonly IBasisChoices? _bases;

    /// <param name="bases">An active receiver's basis choices (the ones its modulator was fed); null takes the basis
    /// from each click.</param>
    public DetectionDecoder(ReceiverLayout layout, IRandomSource random, IBasisChoices? bases = null)
    {
        if (bases is not null && layout != ReceiverLayout.ActiveTwoDetector)
            throw new ArgumentException($"Basis choices belong to an active receiver; the layout is {layout}.", nameof(bases));
        _layout = layout;
        _random = random;
        _bases = bases;
        _validMask = (byte)((1 << layout.DetectorCount()) - 1);
    }

    /// <summary>
    /// The pulse of pattern index 0 of <c>bases</c> in the clicks' numbering (the basis marker's slot); null until it
    /// is known. Set by whoever recovers the clock before each batch.
    /// </summary>
    public long? BasisMarkerPulse { get; set; }

    /// <summary>Whether the basis comes from Bob's own choices (an active receiver on the tag path), placed by <see cref="BasisMarkerPulse"/>.</summary>
    internal bool UsesBasisChoices => _bases is not null;

    /// <summary>Active receiver with Bob's choices: clicks before the basis marker (or while it is not known), dropped.</summary>
    public long ClicksBeforeBasisMarker { get; private set; }

    /// <summary>Clicks with more than one detector firing.</summary>
    public long MultiClicks { get; private set; }

    /// <summary>Multi-clicks spanning both bases (passive receiver only); they were assigned a random basis.</summary>
    public long CrossBasisMultiClicks { get; private set; }

    /// <summary>Clicks whose channel mask was empty or named channels the layout does not have; dropped, never decoded.</summary>
    public long InvalidClicks { get; private set; }

    /// <summary>
    /// Decodes clicks into <paramref name="detections"/> (which must be at least as long); returns how many were written.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Decode(ReadOnlySpan<DetectorClick> clicks, Span<Detection> detections)
    {
        if (detections.Length < clicks.Length)
            throw new ArgumentException($"Destination holds {detections.Length} detections, {clicks.Length} clicks given.", nameof(detections));
        int written = 0;
        bool active = _layout == ReceiverLayout.ActiveTwoDetector;
        // Fields in locals, and the detections written through a ref: written never passes the click index, and the
        // destination holds as many as there are clicks (checked above), so the writes need no bounds test.
        int invalidMask = ~_validMask;
        IBasisChoices? bases = _bases;
        ref Detection output = ref MemoryMarshal.GetReference(detections);
        foreach (ref readonly DetectorClick click in clicks)
        {
            byte mask = click.ChannelMask;
            if (mask == 0 || (mask & invalidMask) != 0)
            {
                InvalidClicks++;
                continue;
            }
            Basis activeBasis = click.ActiveBasis;
            if (bases is not null)
            {
                long index = BasisMarkerPulse is long marker ? click.PulseIndex - marker : -1;
                if (index < 0)
                {
                    ClicksBeforeBasisMarker++;
                    continue;
                }
                activeBasis = bases.BasisAt(index);
            }
            if ((mask & (mask - 1)) == 0)
            {
                // One detector (nearly every click): basis and bit follow from which one, without a branch on it (a
                // branch on the random bit would be mispredicted every other click). Detectors 0/1 are Z (or the active
                // basis) bits 0/1, detectors 2/3 X bits 0/1: for a mask of 1, 2, 4 or 8, (mask + 12) >> 4 is 1 for X, and
                // bit 1 or 3 set is bit value 1.
                Unsafe.Add(ref output, written++) = active
                    ? new Detection(click.PulseIndex, activeBasis, (byte)((mask >> 1) & 1))
                    : new Detection(click.PulseIndex, (Basis)((mask + 12) >> 4), (byte)(((mask >> 1) | (mask >> 3)) & 1));
                continue;
            }
            MultiClicks++;
            Unsafe.Add(ref output, written++) = active
                ? new Detection(click.PulseIndex, activeBasis, BitOf(mask & 3))
                : DecodePassive(click.PulseIndex, mask);
        }
        return written;
    }

    private Detection DecodePassive(long pulse, byte mask)
    {
        int z = mask & 3, x = (mask >> 2) & 3;
        Basis basis;
        if (z != 0 && x != 0)
        {
            CrossBasisMultiClicks++;
            basis = (_random.NextUInt64() & 1) == 0 ? Basis.Z : Basis.X;
        }
        else
            basis = z != 0 ? Basis.Z : Basis.X;
        return new Detection(pulse, basis, BitOf(basis == Basis.Z ? z : x));
    }

    /// <summary>Bit from a two-detector mask: detector 0 means 0, detector 1 means 1, both means a fair coin.</summary>
    private byte BitOf(int pairMask) => pairMask switch
    {
        1 => 0,
        2 => 1,
        _ => (byte)(_random.NextUInt64() & 1),
    };
}
