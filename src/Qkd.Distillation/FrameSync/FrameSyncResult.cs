namespace Qkd.Distillation.FrameSync;

/// <summary>
/// What frame synchronisation found: the offset that turns Bob's pulse indices into Alice's (Alice's = Bob's + offset),
/// or why none could be trusted. Public information, like the pilot it comes from: for logs, reports and metrics.
/// </summary>
/// <param name="Offset">Alice's pulse index minus Bob's; null when synchronisation failed.</param>
/// <param name="FirstCandidate">The smallest offset searched.</param>
/// <param name="LastCandidate">The largest offset searched.</param>
/// <param name="Detections">Bob's detections the search had (those that could fall on the pilot under some offset).</param>
/// <param name="PilotSifted">Under the offset found (or the best one on failure): Bob's detections on a pilot pulse of his basis.</param>
/// <param name="PilotErrors">Of those, the ones whose bit differs from Alice's.</param>
/// <param name="Failure">Why no offset was accepted (null on success).</param>
public sealed record FrameSyncResult(long? Offset, long FirstCandidate, long LastCandidate, long Detections, long PilotSifted, long PilotErrors, string? Failure)
{
    /// <summary>Offsets tried.</summary>
    public long Candidates => LastCandidate - FirstCandidate + 1;

    /// <summary>The pilot's error rate under the offset found (NaN without sifted pilot detections).</summary>
    public double PilotErrorRate => PilotSifted == 0 ? double.NaN : (double)PilotErrors / PilotSifted;
}
