using Qkd.Core;

namespace Qkd.Emulation.Firmware;

/// <summary>
/// The emulated active receiver's settings for one emission: the detector's basis pattern (the host's
/// DetectorBasisData, one nibble per slot) from the emission's first pulse, which is the slot the device marks (the
/// pattern was started before the light came). Slots the host never sent, and every slot after the emission's end, have
/// no basis: the gates are closed there.
/// </summary>
internal sealed class BasisPatternSettings(ModulatorSymbolFifo pattern, ModulatorSymbolFifo emission) : IReceiverBasisSettings
{
    public long PatternStartPulse => 0;

    public bool TryGetSetting(long pulse, out Basis setting)
    {
        // After the emission's end nothing is asked of Bob's stream (it may have stopped short of it, or be waiting for
        // the tagger's end before it stops).
        if (emission.IsComplete && pulse >= emission.EndPulse)
        {
            setting = Basis.Z;
            return false;
        }
        PulseSymbol slot = pattern.SymbolAt(pulse);
        setting = slot.Basis;
        return slot.Intensity != Intensity.Vacuum;
    }
}

/// <summary>An active receiver whose basis modulation was not running when the light came: every gate stays closed.</summary>
internal sealed class NoBasisSettings : IReceiverBasisSettings
{
    public long PatternStartPulse => long.MaxValue;

    public bool TryGetSetting(long pulse, out Basis setting)
    {
        setting = Basis.Z;
        return false;
    }
}
