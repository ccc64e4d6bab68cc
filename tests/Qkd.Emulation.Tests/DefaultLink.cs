using Qkd.Core.Symbols;

namespace Qkd.Emulation.Tests;

/// <summary>
/// What the emulator tests send through a <see cref="LinkProfile"/>'s physics unless a test says otherwise: the
/// built-in link's light (1 GHz, mu = 0.5 / 0.15 / 0) and Alice's choices (Z with 0.75; signal, decoy, vacuum with
/// 0.65, 0.25, 0.10), as Qkd.Node's default link settings set them.
/// </summary>
internal static class DefaultLink
{
    public static TransmitterLight Light => TransmitterLight.Default;

    public static SymbolDistribution Alice => new(0.75, [0.65, 0.25, 0.10]);
}
