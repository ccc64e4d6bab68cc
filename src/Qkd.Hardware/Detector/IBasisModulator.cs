using Qkd.Core.Symbols;
using Qkd.Protocol.Messages;

namespace Qkd.Hardware.Detector;

/// <summary>
/// The basis modulator of an active two-detector receiver: Bob's host streams his basis choice for every pulse slot
/// (DetectorBasisData), and the device applies pattern index 0 at the first sync slot after the start, marking that
/// slot with one pulse on its basis-marker output, which is wired to a time-tagger input. Bob's clock recovery finds
/// the marker's pulse slot, and his decoder reads the basis of each click from the same choices, so an active receiver
/// goes through the tag path like a passive one (firmware-protocols/single-photon-detector.md).
/// </summary>
public interface IBasisModulator
{
    /// <summary>
    /// Starts the basis pattern and streams the bases of pattern indices <c>0 .. count - 1</c> from
    /// <paramref name="bases"/> on a thread of its own (the transport's flow control paces it to what the device
    /// applies). <see cref="BasisStreamingCompletion"/> completes when everything was sent.
    /// </summary>
    void StartBasisModulation(IBasisChoices bases, long count);

    /// <summary>Completes when the stream started last has been sent (faults with the transport's error).</summary>
    Task BasisStreamingCompletion { get; }

    /// <summary>Stops the stream and the pattern: the device applies no host basis afterwards (its gates close).</summary>
    StreamSummary StopBasisModulation();
}
