using Qkd.Core;

namespace Qkd.Emulation;

/// <summary>
/// The basis an active receiver's modulator is set to in each pulse slot, as Bob's host chose it (through his
/// detector's basis modulator, or in process from his basis choices): the physics measures in it instead of drawing a
/// setting of its own, so Bob knows the basis of every click from his own secret source.
/// </summary>
public interface IReceiverBasisSettings
{
    /// <summary>
    /// The link pulse whose slot gets pattern index 0: the device marks it with its basis marker (the emulated tagger
    /// puts a tag on the marker input there).
    /// </summary>
    long PatternStartPulse { get; }

    /// <summary>
    /// The setting in the slot of link pulse <paramref name="pulse"/>; false when the modulator has no basis for it
    /// (before the pattern, a gap in the host's stream, after its end): the gates are closed and nothing is detected.
    /// Called with non-decreasing pulses; may block until the host has sent that slot.
    /// </summary>
    bool TryGetSetting(long pulse, out Basis setting);
}
