using System.Numerics;
using Qkd.Core;
using Qkd.Core.Random;

namespace Qkd.Acquisition;

/// <summary>
/// Turns raw detector clicks into BB84 measurement results according to the receiver layout. Multi-clicks are
/// squashed: several detectors of one basis give a random bit; detectors of both bases (passive receiver) give a
/// random basis and then a bit as above. Squashing makes the receiver equivalent to a qubit measurement, which the
/// security proof assumes; assigning a fixed value instead would open a detector-side loophole.
/// </summary>
public sealed class DetectionDecoder
{
    private readonly ReceiverLayout _layout;
    private readonly IRandomSource _random;
    private readonly byte _validMask;

    public DetectionDecoder(ReceiverLayout layout, IRandomSource random)
    {
        _layout = layout;
        _random = random;
        _validMask = (byte)((1 << layout.DetectorCount()) - 1);
    }

    /// <summary>Clicks with more than one detector firing.</summary>
    public long MultiClicks { get; private set; }

    /// <summary>Multi-clicks spanning both bases (passive receiver only); they were assigned a random basis.</summary>
    public long CrossBasisMultiClicks { get; private set; }

    /// <summary>Clicks whose channel mask was empty or named channels the layout does not have; dropped, never decoded.</summary>
    public long InvalidClicks { get; private set; }

    /// <summary>
    /// Decodes clicks into <paramref name="detections"/> (which must be at least as long); returns how many were written.
    /// </summary>
    public int Decode(ReadOnlySpan<DetectorClick> clicks, Span<Detection> detections)
    {
        if (detections.Length < clicks.Length)
            throw new ArgumentException($"Destination holds {detections.Length} detections, {clicks.Length} clicks given.", nameof(detections));
        int written = 0;
        foreach (ref readonly DetectorClick click in clicks)
        {
            byte mask = click.ChannelMask;
            if (mask == 0 || (mask & ~_validMask) != 0)
            {
                InvalidClicks++;
                continue;
            }
            if (BitOperations.PopCount(mask) > 1) MultiClicks++;
            detections[written++] = _layout == ReceiverLayout.ActiveTwoDetector
                ? new Detection(click.PulseIndex, click.ActiveBasis, BitOf(mask & 3))
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
