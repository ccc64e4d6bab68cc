namespace Qkd.Emulation.TimeTagging;

/// <summary>
/// The emulator's ground truth for one time tag, written beside it by
/// <see cref="EmulatedTimeTagger.Read(System.Span{Qkd.Core.TimeTags.TimeTag}, System.Span{TimeTagTruth}, System.Threading.CancellationToken)"/>.
/// </summary>
/// <param name="PulseIndex">
/// The pulse the tag belongs to: the slot of a detection, the pulse a sync tag marks (a multiple of the sync divider);
/// -1 for a free-running dark count.
/// </param>
/// <param name="Origin">What produced the tag.</param>
public readonly record struct TimeTagTruth(long PulseIndex, TimeTagOrigin Origin);
