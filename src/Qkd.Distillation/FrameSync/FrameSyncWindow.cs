namespace Qkd.Distillation.FrameSync;

/// <summary>
/// The offsets frame synchronisation searches (Alice's pulse index = Bob's + offset): from what Bob's clock recovery
/// can be wrong by. Syncs lost at the start make Bob count from a later sync (offset +k·divider); a fibre delay longer
/// than the one his clock recovery assumes shifts his count up (offset −delay in pulses).
/// </summary>
/// <param name="FirstCandidate">The smallest offset (minus the most pulses of unknown delay).</param>
/// <param name="LastCandidate">The largest offset (the most pulses of lost syncs).</param>
public readonly record struct FrameSyncWindow(long FirstCandidate, long LastCandidate)
{
    /// <summary>
    /// The window for a pilot of <paramref name="pilotPulses"/> pulses when Bob's clock recovery assumes no path delay
    /// beyond what it is told and the true one may exceed it by up to <paramref name="maxUnknownDelayPulses"/>: the
    /// delay side, and syncs lost at the start for up to half the pilot (the other half still holds detections).
    /// </summary>
    public static FrameSyncWindow For(long pilotPulses, long maxUnknownDelayPulses)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pilotPulses);
        ArgumentOutOfRangeException.ThrowIfNegative(maxUnknownDelayPulses);
        return new FrameSyncWindow(-maxUnknownDelayPulses - 1, pilotPulses / 2);
    }
}
