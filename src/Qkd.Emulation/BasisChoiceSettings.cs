using Qkd.Core;
using Qkd.Core.Symbols;

namespace Qkd.Emulation;

/// <summary>
/// An active receiver's settings straight from Bob's basis choices, in process (no device): slot of link pulse
/// <see cref="PatternStartPulse"/> + i measures in <c>bases.BasisAt(i)</c> for i below <paramref name="length"/>.
/// </summary>
public sealed class BasisChoiceSettings(IBasisChoices bases, long patternStartPulse = 0, long length = long.MaxValue) : IReceiverBasisSettings
{
    private readonly IBasisChoices _bases = bases ?? throw new ArgumentNullException(nameof(bases));

    public long PatternStartPulse { get; } = patternStartPulse >= 0 ? patternStartPulse : throw new ArgumentOutOfRangeException(nameof(patternStartPulse));

    public bool TryGetSetting(long pulse, out Basis setting)
    {
        long index = pulse - PatternStartPulse;
        if (index < 0 || index >= length)
        {
            setting = Basis.Z;
            return false;
        }
        setting = _bases.BasisAt(index);
        return true;
    }
}
