using Qkd.Acquisition;
using Qkd.Core;
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

    /// <summary>
    /// The emulated tagger's wiring: sync on input 0, detectors from input 1, and an active receiver's basis marker on
    /// input <see cref="EmulatedBasisMarkerChannel"/>.
    /// </summary>
    public static EmulatedTimeTaggerOptions TaggerOptionsFor(LinkSettings settings, long endPulse, ReceiverLayout layout = ReceiverLayout.PassiveFourDetector) =>
        new()
        {
            EndPulse = endPulse,
            SyncDivider = settings.PulsesPerSync,
            BasisMarkerChannel = layout == ReceiverLayout.ActiveTwoDetector ? EmulatedBasisMarkerChannel : null,
        };

    /// <summary>Tagger input of the emulated active receiver's basis marker.</summary>
    public const ushort EmulatedBasisMarkerChannel = 7;

    /// <summary>
    /// Clock recovery for the emulated tagger's wiring: Alice's pulse rate, sync on channel 0, detectors from channel
    /// 1, light arriving one fibre delay after its pulse, and a gate of eight jitter widths (at least 200 ps) around the
    /// expected arrival.
    /// </summary>
    public static ClockRecoveryOptions ClockRecoveryOptionsFor(LinkProfile profile, LinkSettings settings, EmulatedTimeTaggerOptions tagger) => new()
    {
        PulseRateHz = settings.PulseRateHz,
        SyncChannel = tagger.SyncChannel,
        SyncDivider = tagger.SyncDivider,
        DetectorChannels = Enumerable.Range(0, profile.ReceiverLayout.DetectorCount()).Select(d => (ushort)(tagger.FirstDetectorChannel + d)).ToArray(),
        DetectorDelaysPs = tagger.DetectorDelaysPs,
        SyncDelayPs = tagger.SyncDelayPs,
        PathDelayPs = profile.FibreDelayPs,
        GateWidthPs = Math.Min(settings.PulsePeriodPs, Math.Max(200, 8 * Math.Sqrt(profile.TimingJitterRmsPs * profile.TimingJitterRmsPs + tagger.SyncJitterRmsPs * tagger.SyncJitterRmsPs))),
        BasisMarkerChannel = profile.ReceiverLayout == ReceiverLayout.ActiveTwoDetector ? tagger.BasisMarkerChannel : null,
        BasisMarkerDelayPs = profile.ReceiverLayout == ReceiverLayout.ActiveTwoDetector ? tagger.BasisMarkerDelayPs : 0,
    };
}
