using Qkd.Calibration;
using Qkd.Core.Symbols;
using Qkd.Core.TimeTags;
using Qkd.Emulation;
using Qkd.Emulation.TimeTagging;

namespace Qkd.Lab;

/// <summary>
/// The tags of one lab measurement, in time order, and the truth they came from. Profile and tagger options are what
/// the emulator ran with (or, on replay, what the recording's metadata says; null when it says nothing). Symbols are
/// Alice's pulses when known (emulator, or a recording with its seed): delay calibration uses them to resolve whole
/// pulse periods.
/// </summary>
public sealed record LabCapture(
    TimeTag[] Tags,
    int Count,
    string Source,
    LinkProfile? Profile,
    EmulatedTimeTaggerOptions? TaggerOptions,
    ulong? Seed,
    long? Pulses,
    SeededSymbolSource? Symbols)
{
    /// <summary>
    /// Whether <see cref="Profile"/> and <see cref="TaggerOptions"/> are the physics' truth (emulator, emulated
    /// recordings) or only the settings sent to real devices and their wiring (a device bench): then reports compare
    /// nothing with them.
    /// </summary>
    public bool TruthKnown { get; init; } = true;

    /// <summary>What Alice's transmitter was set to (emulator; a recording's metadata), or null when unknown.</summary>
    public Node.Link.LinkSettings? Settings { get; init; }

    /// <summary>The light's pulse period as the replayed file states it (a PTU's 1 / TTResult_SyncRate, or its T3 sync
    /// period), ps; null when the source says nothing.</summary>
    public double? SourcePulsePeriodPs { get; init; }

    /// <summary>Tags of the replayed file dropped because they could not be placed in time order (PTU T3 reorder window).</summary>
    public long TagsNotPlaced { get; init; }

    /// <summary>
    /// A replayed recording's completeness (our format; null for a capture or a PTU file). A damaged one is only
    /// captured when the damage was accepted; then <see cref="Pulses"/> and <see cref="DurationPs"/> are those of the
    /// time its intact tags cover.
    /// </summary>
    public Run.RecordingIntegrityReport? Recording { get; init; }

    /// <summary>Link time lost between intact tags of a damaged recording, ps (0 otherwise): not part of <see cref="DurationPs"/>.</summary>
    public long InteriorLostPs { get; init; }

    /// <summary>The captured tags (the array may be longer than <see cref="Count"/>).</summary>
    public ReadOnlySpan<TimeTag> Span => Tags.AsSpan(0, Count);

    /// <summary>Time from the first to the last event tag, ps (0 with fewer than two tags), less what a damaged recording lost in between.</summary>
    public long DurationPs
    {
        get
        {
            var tags = Span;
            return tags.Length < 2 ? 0 : Math.Max(0, tags[^1].TimePs - tags[0].TimePs - InteriorLostPs);
        }
    }

    /// <summary>Event tags (rising or falling edges) on <paramref name="channel"/>.</summary>
    public long CountOn(ushort channel)
    {
        long n = 0;
        foreach (ref readonly var tag in Span)
            if (tag.Channel == channel && tag.IsEvent) n++;
        return n;
    }

    /// <summary>
    /// The delay calibration's wiring and physics from this capture's truth (profile and tagger wiring: sync channel
    /// and divider, detector channels, pulse period, fibre delay); the defaults where it has none.
    /// </summary>
    public DelayCalibrationOptions DelayOptions(long binWidthPs = 10)
    {
        var options = new DelayCalibrationOptions { BinWidthPs = binWidthPs };
        if (TaggerOptions is { } tagger && Profile is { } profile)
            options = options with
            {
                SyncChannel = tagger.SyncChannel,
                SyncDivider = tagger.SyncDivider,
                DetectorChannels = Enumerable.Range(0, profile.DetectorCount).Select(d => (ushort)(tagger.FirstDetectorChannel + d)).ToArray(),
            };
        if (Profile is { } p) options = options with { PathDelayPs = p.FibreDelayPs };
        if (Settings is { } settings) options = options with { PulsePeriodPs = settings.PulsePeriodPs };
        return options;
    }
}
