using Qkd.Node.Devices;
using Qkd.Node.Link;
using Qkd.Emulation;

namespace Qkd.Lab.Run;

/// <summary>What `qkd run --emulator` needs: the link's physics and settings, and how long and how to run it.</summary>
public sealed record EmulatedRunOptions
{
    /// <summary>The link's physics (source, fibre, detectors, clocks, eavesdropper).</summary>
    public required LinkProfile Profile { get; init; }

    /// <summary>What the link is set to: pulse rate, intensities and their probabilities, sync divider, block sizes.</summary>
    public LinkSettings Settings { get; init; } = LinkSettings.Default;

    /// <summary>Where the profile came from ("built-in default" or a path), for the report.</summary>
    public string ProfileSource { get; init; } = "built-in default";

    /// <summary>Link time to emulate, seconds (pulses sent = rate x duration).</summary>
    public double DurationSeconds { get; init; } = 1.0;

    /// <summary>
    /// Null (the default): Alice's symbols, Bob's squashing and the distillers' randomness come from the OS CSPRNG
    /// (<see cref="ChoiceSources.Secure"/>) and the emulated physics from <see cref="DefaultEmulatorSeed"/>. A seed:
    /// every random choice of the run follows from it, physics and choices alike, so the same seed gives the same run
    /// and the same key; such keys are not secret (emulation and tests only).
    /// </summary>
    public ulong? Seed { get; init; }

    /// <summary>The emulated physics' seed when the run has no <see cref="Seed"/>: emulation is seeded by design.</summary>
    public const ulong DefaultEmulatorSeed = 7;

    /// <summary>Seed of the emulated physics (photon statistics, detectors, clocks, eavesdropper).</summary>
    public ulong EmulatorSeed => Seed ?? DefaultEmulatorSeed;

    /// <summary>
    /// A recorded time-tag file (from `qkd record`) to replay as Bob's tagger instead of the live emulator; Alice's
    /// symbols, the profile and the settings come from the recording's metadata (see <see cref="Recording"/>).
    /// </summary>
    public string? ReplayFile { get; init; }

    /// <summary>
    /// What the check of <see cref="ReplayFile"/> found (<see cref="Recording.CheckIntegrity"/>): for a damaged file
    /// the user accepted, the run's pulses, rates and gains are those of the time its intact tags cover, not the
    /// length its metadata claims; the report carries it either way.
    /// </summary>
    public RecordingIntegrityReport? ReplayIntegrity { get; init; }

    /// <summary>
    /// Bob's receiver wiring, delays and gate as measured on the bench a recording was made on; null: the emulated
    /// tagger's wiring and the profile's fibre delay (<see cref="EmulatedSetup.ClockRecoveryOptionsFor"/>).
    /// </summary>
    public ReceiverSettings? Receiver { get; init; }

    /// <summary>How the host reaches the emulated devices: in process (default) or over real pseudo-terminals.</summary>
    public Emulation.Hosting.EmulatedDeviceTransport DeviceTransport { get; init; } = Emulation.Hosting.EmulatedDeviceTransport.InProcess;

    /// <summary>How often the devices' status is polled during a run (and gone devices reconnected).</summary>
    public TimeSpan DeviceSupervisionInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Directory under which Alice's and Bob's key files are written.</summary>
    public required string KeysDirectory { get; init; }

    /// <summary>Pulses the run emits: pulse rate x duration.</summary>
    public long Pulses => (long)Math.Round(Settings.PulseRateHz * DurationSeconds);

    /// <summary>
    /// Round trip of the classical channel between the two ends (zero: none beyond the in-process pair's). A real link's
    /// channel crosses a network; a metro link has about 0.1–2 ms, and Cascade's thousands of rounds feel it.
    /// </summary>
    public TimeSpan ChannelRoundTrip { get; init; }

    /// <summary>
    /// Both ends run their stages concurrently (default): block n is corrected and amplified while block n+1 is sifted
    /// (<see cref="Distillation.DistillationOptions.ConcurrentStages"/>). False: one stage at a time, as before; the
    /// keys are the same either way.
    /// </summary>
    public bool ConcurrentStages { get; init; } = true;

    /// <summary>The link monitor's thresholds for the run (<see cref="RunMonitor"/>); null: the defaults of a node's monitor.</summary>
    public Qkd.Monitoring.MonitorOptions? Monitor { get; init; }

    public void Validate()
    {
        Monitor?.Validate();
        if (ChannelRoundTrip < TimeSpan.Zero || ChannelRoundTrip > TimeSpan.FromSeconds(10))
            throw new ArgumentException($"The channel round trip must be between 0 and 10 s, got {ChannelRoundTrip.TotalMilliseconds} ms.");
        Profile.Validate();
        ArgumentNullException.ThrowIfNull(Settings);
        Settings.Validate();
        if (!(DurationSeconds > 0) || double.IsInfinity(DurationSeconds))
            throw new ArgumentException($"Duration must be a positive number of seconds, got {DurationSeconds}.");
        if (Settings.PulseRateHz * DurationSeconds > 1e13)
            throw new ArgumentException($"Duration {DurationSeconds} s at {Settings.PulseRateHz:G3} pulses/s is more than 1e13 pulses; choose a shorter run.");
    }
}
