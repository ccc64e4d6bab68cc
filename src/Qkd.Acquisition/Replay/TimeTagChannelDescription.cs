namespace Qkd.Acquisition.Replay;

/// <summary>
/// One input channel as described in a time-tag file header.
/// </summary>
/// <param name="Channel">The channel number the tags carry.</param>
/// <param name="Name">Free text for people ("D0 H", "sync from Alice"); at most 65535 UTF-8 bytes.</param>
/// <param name="Role">Detector or sync.</param>
/// <param name="DelayPs">
/// Cable/electronics delay measured for this channel at recording time, if it was measured; the tags themselves are
/// stored uncorrected, so replay can apply the recorded delay or a newer calibration.
/// </param>
public sealed record TimeTagChannelDescription(ushort Channel, string Name, TimeTagChannelRole Role, long? DelayPs = null);
