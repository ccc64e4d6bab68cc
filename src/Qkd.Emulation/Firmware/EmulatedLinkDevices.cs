using Qkd.Core;
using Qkd.Core.Random;
using Qkd.Core.TimeTags;
using Qkd.Emulation.TimeTagging;

namespace Qkd.Emulation.Firmware;

/// <summary>
/// The three emulated devices of one link around ONE physical link: Alice's laser modulator, Bob's single-photon
/// detector and Bob's time tagger. When the tagger streams and the modulator emits, the physics is built from what the
/// devices are set to (see Firmware/README.md for the mapping): the light (pulse rate and intensity levels, from the
/// modulator's settings: <see cref="ImpliedLight"/>), the link profile (efficiency and dead time from the detector,
/// everything the user does not control — fibre, dark counts, drift, eavesdropper — from the base profile), the <see cref="EmulatedLink"/> with the modulator's
/// <see cref="ModulatorSymbolFifo"/> as Alice's symbols, and the <see cref="EmulatedTimeTagger"/> over it (sync divider
/// from the modulator, wiring and cable delays from the base tagger options). Detector counts follow the tags.
/// </summary>
/// <remarks>
/// Seeded: the same seed and the same host commands give the same tags. Session k (the k-th emission the tagger
/// streams) uses the link and tagger seeds <see cref="LinkSeed"/>/<see cref="TaggerSeed"/>; session 0 derives them
/// from the seed exactly as Qkd.Node's EmulatedSetup does, so the firmware path reproduces a direct run tag for tag.
/// Attach each device to its transport with <see cref="FirmwareHost.Plug"/>.
/// </remarks>
public sealed class EmulatedLinkDevices : IDisposable
{
    private readonly object _gate = new();
    private readonly LinkProfile _baseProfile;
    private readonly EmulatedTimeTaggerOptions _baseTaggerOptions;
    private ModulatorSymbolFifo? _usedEmission;
    private EmulatedLinkTagSource? _session;
    private int _sessions;
    private bool _disposed;

    /// <param name="baseProfile">The physics the devices do not control: a passive four-detector receiver, or an active
    /// two-detector one whose detector has a basis modulator (then <paramref name="taggerOptions"/> must wire its basis marker).</param>
    /// <param name="taggerOptions">Wiring, cable delays, sync jitter and free-running dark counts of the tagger inputs.</param>
    /// <param name="seed">Seed of everything random.</param>
    /// <param name="clock">Device time of all three devices; null follows the wall clock.</param>
    /// <param name="serialSuffix">Serial numbers are SPD-/MOD-/TT- plus this.</param>
    public EmulatedLinkDevices(LinkProfile baseProfile, EmulatedTimeTaggerOptions taggerOptions, ulong seed, IDeviceClock? clock = null,
        string serialSuffix = "EMU-0001")
    {
        ArgumentNullException.ThrowIfNull(baseProfile);
        ArgumentNullException.ThrowIfNull(taggerOptions);
        baseProfile.Validate();
        bool active = baseProfile.ReceiverLayout == ReceiverLayout.ActiveTwoDetector;
        if (active && taggerOptions.BasisMarkerChannel is null)
            throw new ArgumentException("An active receiver's basis marker must be wired to a tagger input (BasisMarkerChannel).", nameof(taggerOptions));
        _baseProfile = baseProfile;
        _baseTaggerOptions = taggerOptions;
        Seed = seed;
        Clock = clock ?? new WallDeviceClock();
        int inputs = Math.Max(8, Math.Max(Math.Max(taggerOptions.SyncChannel, taggerOptions.BasisMarkerChannel ?? 0),
            taggerOptions.FirstDetectorChannel + baseProfile.DetectorCount - 1) + 1);
        Detector = new EmulatedSinglePhotonDetectorFirmware($"SPD-{serialSuffix}", baseProfile.DetectorCount, Clock, basisModulator: active);
        Modulator = new EmulatedLaserModulatorFirmware($"MOD-{serialSuffix}", Clock) { EmissionCheck = CheckEmission };
        Tagger = new EmulatedTimeTaggerFirmware(SourceForStream, $"TT-{serialSuffix}", inputs, Clock);
        Modulator.EmissionStarted += _ =>
        {
            lock (_gate) Monitor.PulseAll(_gate);
        };
        // While the tagger does not stream, the light of a running emission goes unobserved: a real laser (and an active
        // receiver's basis modulator) keeps going at the pulse rate, so the hosts' symbols and bases must not wait for a
        // physics nobody reads (an aborted session stops Bob's tagger early; his stop requests queue behind the streams).
        Tagger.StreamingChanged += running =>
        {
            if (Modulator.CurrentEmission is { } emission) emission.Unobserved = !running;
            if (Detector.BasisPattern is { } pattern) pattern.Unobserved = !running;
        };
    }

    public ulong Seed { get; }

    public IDeviceClock Clock { get; }

    public EmulatedSinglePhotonDetectorFirmware Detector { get; }

    public EmulatedLaserModulatorFirmware Modulator { get; }

    public EmulatedTimeTaggerFirmware Tagger { get; }

    /// <summary>The physics session the tagger streams (or last streamed), null before the first start.</summary>
    public EmulatedLinkTagSource? CurrentSession
    {
        get { lock (_gate) return _session; }
    }

    /// <summary>Seed of session <paramref name="session"/>'s link: session 0 as Qkd.Node's EmulatedSetup.Link.</summary>
    public static ulong LinkSeed(ulong seed, int session) => SplitMix64.Mix(SessionSeed(seed, session) ^ 0xE3u);

    /// <summary>Seed of session <paramref name="session"/>'s tagger: session 0 as Qkd.Node's EmulatedSetup.Tagger.</summary>
    public static ulong TaggerSeed(ulong seed, int session) => SplitMix64.Mix(SessionSeed(seed, session) ^ 0x7A66E5u);

    /// <summary>The light the modulator's current settings send: its pulse rate and intensity levels.</summary>
    public TransmitterLight ImpliedLight() => new(Modulator.PulseRateHz, Modulator.IntensityMicroPhotons(0) / 1e6,
        Modulator.IntensityMicroPhotons(1) / 1e6, Modulator.IntensityMicroPhotons(2) / 1e6);

    /// <summary>The link profile (physics) the devices' current settings imply (see Firmware/README.md).</summary>
    public LinkProfile ImpliedProfile()
    {
        int heads = Detector.Heads;
        double efficiency = 0, deadTime = 0;
        for (int h = 0; h < heads; h++)
        {
            efficiency += Detector.Efficiency(h);
            deadTime += Detector.DeadTimePs(h);
        }
        double gateFactor = 0;
        for (int h = 0; h < heads; h++) gateFactor += GateTransmission(h);
        var implied = _baseProfile with
        {
            DetectorEfficiency = Math.Max(1e-9, efficiency / heads * gateFactor / heads),
            DeadTimePs = (long)Math.Round(deadTime / heads),
        };
        if (Truth.OptimalPhaseMilliradians is not { } optimal) return implied;
        // Each basis has its own phase (polarisation) reference: an offset d in a basis flips that basis's photons with
        // probability sin^2(d/2), on top of (independently of) its base misalignment; the other basis is untouched.
        return implied with
        {
            MisalignmentErrorZ = WithPhaseOffset(_baseProfile.Misalignment(Basis.Z), Modulator.PhaseMilliradians(0) - optimal[0]),
            MisalignmentErrorX = WithPhaseOffset(_baseProfile.Misalignment(Basis.X), Modulator.PhaseMilliradians(1) - optimal[1]),
        };
    }

    /// <summary>
    /// A base flip probability <paramref name="e"/> and an independent flip of probability sin^2(d/2) from a phase offset
    /// of <paramref name="offsetMilliradians"/>: the outcome flips when exactly one of them does (at most 1/2).
    /// </summary>
    internal static double WithPhaseOffset(double e, double offsetMilliradians)
    {
        double s = Math.Sin(offsetMilliradians / 2000.0);
        double flip = s * s;
        return Math.Min(0.5, e * (1 - flip) + flip * (1 - e));
    }

    /// <summary>
    /// What the lab calibrations search for, hidden in the physics: where the light arrives within the detectors' gate,
    /// and the modulator phase settings that zero the misalignment. Null fields: the setting has no effect (the
    /// defaults, as before these knobs existed).
    /// </summary>
    public EmulatedLabTruth Truth { get; init; } = new();

    /// <summary>
    /// The share of a head's photons that fall inside its gate: the light arrives at <see cref="EmulatedLabTruth.LightArrivalPs"/>
    /// after the gate trigger with the timing jitter's Gaussian spread; a gate [delay, delay + width] catches
    /// Phi((delay + width - t)/sigma) - Phi((delay - t)/sigma). Free-running heads, or no truth set, catch everything.
    /// </summary>
    public double GateTransmission(int head)
    {
        if (Truth.LightArrivalPs is not double arrival || !Detector.IsGated) return 1;
        double sigma = Math.Max(1, _baseProfile.TimingJitterRmsPs);
        double start = Detector.GateDelayPs(head), end = start + Detector.GateWidthPs(head);
        return NormalCdf((end - arrival) / sigma) - NormalCdf((start - arrival) / sigma);
    }

    private static double NormalCdf(double z) => 0.5 * PreciseMath.Erfc(-z / Math.Sqrt(2));

    /// <summary>The tagger options the devices imply: the base wiring with the modulator's sync divider, no end.</summary>
    public EmulatedTimeTaggerOptions ImpliedTaggerOptions() =>
        _baseTaggerOptions with { SyncDivider = Modulator.SyncDivider, EndPulse = long.MaxValue };

    /// <summary>Opens the interlock of the modulator and the detector (they share the safety loop).</summary>
    public void OpenInterlock()
    {
        Modulator.OpenInterlock();
        Detector.OpenInterlock();
    }

    public void CloseInterlock()
    {
        Modulator.CloseInterlock();
        Detector.CloseInterlock();
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            Monitor.PulseAll(_gate);
        }
        Tagger.Dispose(); // cancels its stream, which aborts the session's symbol FIFO if the link waits on it
        Detector.BasisPattern?.Abort();
        Modulator.Dispose();
        Detector.Dispose();
    }

    /// <summary>Called by the tagger at every stream start: the running session continues, else a new one begins.</summary>
    private ITimeTagSource SourceForStream()
    {
        lock (_gate)
        {
            if (_session is { Ended: false } session && (session.Emission is null || ReferenceEquals(session.Emission, Modulator.LastEmission)))
                return session;
            _session = new EmulatedLinkTagSource(this, _sessions++);
            return _session;
        }
    }

    /// <summary>Blocks until the modulator has an emission no session has used yet, and claims it.</summary>
    internal ModulatorSymbolFifo WaitForUnusedEmission(CancellationToken cancellationToken)
    {
        using CancellationTokenRegistration wake = cancellationToken.Register(() =>
        {
            lock (_gate) Monitor.PulseAll(_gate);
        });
        lock (_gate)
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                ObjectDisposedException.ThrowIf(_disposed, this);
                if (Modulator.LastEmission is { } emission && !ReferenceEquals(emission, _usedEmission))
                {
                    _usedEmission = emission;
                    return emission;
                }
                Monitor.Wait(_gate, TimeSpan.FromMilliseconds(100));
            }
        }
    }

    /// <summary>Refuses an emission the physics cannot emulate (intensities that do not form a decoy-state source).</summary>
    private string? CheckEmission()
    {
        try
        {
            // Called under the modulator's device lock: the implied light reads the modulator again (re-entrant).
            ImpliedLight().Validate();
            ImpliedProfile().Validate();
            return null;
        }
        catch (LinkProfileException e)
        {
            return $"the intensity levels and pulse rate do not make a valid link: {e.Message}";
        }
    }

    private static ulong SessionSeed(ulong seed, int session) => session == 0 ? seed : SplitMix64.Mix(seed + (ulong)session * SplitMix64.Gamma);
}
