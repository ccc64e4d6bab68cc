using Qkd.Emulation;
using Qkd.Emulation.TimeTagging;
using Qkd.Calibration;
using Qkd.Node.Link;

namespace Qkd.Lab;

/// <summary>What <c>qkd calibrate detector</c> measures and where the tags come from.</summary>
public sealed record DetectorCalibrationOptions
{
    /// <summary>The emulated link (dark counts, afterpulsing, dead time and efficiency are the truth to find).</summary>
    public LinkProfile Profile { get; init; } = LinkProfile.Default;

    /// <summary>What Alice's transmitter is set to for the captures (pulse rate, sync divider; the light capture replaces the intensities).</summary>
    public LinkSettings Settings { get; init; } = LinkSettings.Default;

    /// <summary>Tagger wiring (detector channels from FirstDetectorChannel; free-running dark counts).</summary>
    public EmulatedTimeTaggerOptions Tagger { get; init; } = new();

    public ulong Seed { get; init; } = 7;

    /// <summary>Pulse slots of each capture (light blocked, and with light when <see cref="MeanPhotonNumber"/> is set).</summary>
    public long Pulses { get; init; } = 200_000_000;

    /// <summary>A time-tag file with the light blocked, analysed instead of the emulator's dark capture.</summary>
    public string? ReplayFile { get; init; }

    /// <summary>Analyse a truncated or damaged <see cref="ReplayFile"/> over the time it covers instead of refusing it.</summary>
    public bool AcceptDamaged { get; init; }

    /// <summary>
    /// The user states that <see cref="ReplayFile"/> was taken with the light blocked, for a file whose metadata says
    /// nothing about it; a file that says the light was on is refused whatever this says.
    /// </summary>
    public bool LightOffConfirmed { get; init; }

    /// <summary>Source mean photon number per pulse for the efficiency capture; null: no efficiency measurement.</summary>
    public double? MeanPhotonNumber { get; init; }

    /// <summary>Loss from the source to the detectors, dB; null: the profile's channel loss.</summary>
    public double? LossDb { get; init; }

    /// <summary>Histogram bin width, ps; null: the pulse period (a gated detector's intervals are whole periods).</summary>
    public long? BinWidthPs { get; init; }

    public long WindowPs { get; init; } = DetectorCalibration.DefaultWindowPs;

    /// <summary>Refuses options that cannot run, naming the option; changes nothing.</summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Profile);
        ArgumentNullException.ThrowIfNull(Settings);
        ArgumentNullException.ThrowIfNull(Tagger);
        if (ReplayFile is null && (Pulses < 1000 || Pulses > 10_000_000_000))
            throw new ArgumentOutOfRangeException(nameof(Pulses), Pulses, "The pulse count must lie in [1000, 1e10].");
        if (MeanPhotonNumber is double mu && !(mu > 0 && mu <= 100))
            throw new ArgumentOutOfRangeException(nameof(MeanPhotonNumber), mu, "The mean photon number must lie in (0, 100].");
        if (LossDb is double loss && !(loss >= 0 && loss <= 100))
            throw new ArgumentOutOfRangeException(nameof(LossDb), loss, "The loss must lie in [0, 100] dB.");
        if (BinWidthPs is long w && w < 1)
            throw new ArgumentOutOfRangeException(nameof(BinWidthPs), w, "The bin width must be >= 1 ps.");
        if (MeanPhotonNumber is not null && ReplayFile is not null)
            throw new ArgumentException("The efficiency needs a capture with light from the emulator; it cannot come from a light-blocked replay file.", nameof(MeanPhotonNumber));
        Profile.Validate();
        Settings.Validate();
        Tagger.Validate(Profile.DetectorCount, Settings.PulsePeriodPs);
    }
}
