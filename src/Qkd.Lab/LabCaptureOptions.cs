using Qkd.Emulation;
using Qkd.Emulation.TimeTagging;
using Qkd.Node.Link;

namespace Qkd.Lab;

/// <summary>
/// Where a lab measurement's tags come from: an emulated rig (profile, link settings, tagger wiring and delays, seed,
/// pulses), driven
/// through the device drivers exactly as a link run drives them, or a replayed time-tag file.
/// </summary>
public sealed record LabCaptureOptions
{
    /// <summary>Physics of the emulated link (ignored on replay, where the file's metadata says what it can).</summary>
    public LinkProfile Profile { get; init; } = LinkProfile.Default;

    /// <summary>What Alice's transmitter is set to (pulse rate, intensities and their probabilities, sync divider; ignored on replay).</summary>
    public LinkSettings Settings { get; init; } = LinkSettings.Default;

    /// <summary>
    /// Tagger wiring: channels, cable delays, sync jitter, free-running dark counts. Its sync divider is the link
    /// settings' <see cref="LinkSettings.PulsesPerSync"/> (the modulator makes the sync), whatever it says here.
    /// </summary>
    public EmulatedTimeTaggerOptions Tagger { get; init; } = new();

    public ulong Seed { get; init; } = 7;

    /// <summary>Pulses Alice emits (1e6 pulses are 1 ms of link time at 1 GHz).</summary>
    public long Pulses { get; init; } = 2_000_000;

    /// <summary>A time-tag file (ours or PTU) to replay instead of the emulator.</summary>
    public string? ReplayFile { get; init; }

    /// <summary>
    /// Measure a truncated or damaged replay file over the time its intact tags cover instead of refusing it
    /// (<see cref="Run.DamagedRecordingException"/>); the damage is in <see cref="LabCapture.Recording"/> and its source.
    /// </summary>
    public bool AcceptDamaged { get; init; }

    /// <summary>
    /// Real devices (or emulated ones behind serial ports) to measure instead of the emulator: the same drivers, settings
    /// and emission, from the bench file's devices. <see cref="Tagger"/> then only gives the sync channel.
    /// </summary>
    public Node.Devices.DeviceBench? Bench { get; init; }

    /// <summary>Refuses a capture that cannot run, naming the option; changes nothing.</summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Profile);
        ArgumentNullException.ThrowIfNull(Settings);
        ArgumentNullException.ThrowIfNull(Tagger);
        if (ReplayFile is not null && Bench is not null)
            throw new ArgumentException("Give one source: a replay file or a device bench, not both.", nameof(Bench));
        Bench?.Validate();
        if (ReplayFile is not null)
        {
            if (!File.Exists(ReplayFile)) throw new ArgumentException($"Replay file '{ReplayFile}' does not exist.", nameof(ReplayFile));
            return;
        }
        if (Pulses < 1 || Pulses > 10_000_000_000)
            throw new ArgumentOutOfRangeException(nameof(Pulses), Pulses, "The pulse count must lie in [1, 1e10].");
        Profile.Validate();
        Settings.Validate();
        Tagger.Validate(Profile.DetectorCount, Settings.PulsePeriodPs);
    }
}
