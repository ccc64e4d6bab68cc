using Qkd.Core.Random;
using Qkd.Core.Symbols;
using Qkd.Emulation;
using Qkd.Emulation.TimeTagging;

namespace Qkd.Node.Link;

/// <summary>
/// The emulated parts of a run, derived from the run seed in one place: a live run and a recording of it must build
/// exactly the same Alice symbols, link and tagger, or a replay would not distil to the live run's key. Emulated
/// directly (no modulator in between), the physics takes the light Alice sends from the link settings.
/// </summary>
public static class EmulatedSetup
{
    public static SeededSymbolSource AliceSymbols(LinkSettings settings, ulong seed) =>
        new(SplitMix64.Mix(seed ^ 0xA11CE), settings.SymbolDistribution());

    public static EmulatedLink Link(LinkProfile profile, LinkSettings settings, ISymbolSource alice, ulong seed) =>
        new(profile, settings.Light, alice, SplitMix64.Mix(seed ^ 0xE3u));

    public static EmulatedTimeTagger Tagger(EmulatedLink link, EmulatedTimeTaggerOptions options, ulong seed) =>
        new(link, options, SplitMix64.Mix(seed ^ 0x7A66E5u));
}
