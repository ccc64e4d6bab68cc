using Qkd.Acquisition.Loop;
using Qkd.Core;
using Qkd.Emulation;
using Qkd.Emulation.Firmware;
using Qkd.Emulation.Hosting;
using Qkd.Emulation.TimeTagging;
using Qkd.Hardware.Detector;
using Qkd.Hardware.Devices;
using Qkd.Hardware.Modulator;
using Qkd.Protocol;
using Qkd.Hardware.TimeTagger;
using Qkd.Node.Link;
using Qkd.Protocol.Transport;

namespace Qkd.Node.Devices;

/// <summary>
/// The devices one link runs on, as drivers: Alice's laser modulator, Bob's single-photon detector and Bob's time
/// tagger. The same drivers talk to real devices (connectors from a hardware configuration) or to emulated firmware
/// (an <see cref="EmulatedLinkDevices"/> behind in-process streams or real pseudo-terminals); nothing above this class
/// can tell the difference. For emulated rigs the firmware and the cable connectors are exposed for fault injection.
/// </summary>
public sealed class LinkRig : IDisposable
{
    private readonly List<IDisposable> _owned = new();
    private (LinkProfile Profile, LinkSettings Settings, ushort SyncChannel)? _configuration;

    private LinkRig(ILaserModulator modulator, ISinglePhotonDetector detector, ITimeTagger tagger, string description)
    {
        Modulator = modulator;
        Detector = detector;
        Tagger = tagger;
        Description = description;
    }

    public ILaserModulator Modulator { get; }

    public ISinglePhotonDetector Detector { get; }

    public ITimeTagger Tagger { get; }

    /// <summary>"emulated devices (in process)", "emulated devices (pseudo-terminals)", "hardware (hil/targets/lab.json)".</summary>
    public string Description { get; }

    /// <summary>The emulated firmware, or null on hardware.</summary>
    public EmulatedLinkDevices? Emulated { get; private init; }

    /// <summary>The emulated cables, for unplug/replug (null on hardware).</summary>
    public EmulatedDeviceConnector? ModulatorCable { get; private init; }

    public EmulatedDeviceConnector? DetectorCable { get; private init; }

    public EmulatedDeviceConnector? TaggerCable { get; private init; }

    /// <summary>
    /// Emulated devices around one emulated link, reached over <paramref name="transport"/>. The base profile gives the
    /// physics the devices do not control; <see cref="Configure"/> sets what they do. <paramref name="truth"/> hides where
    /// the gate and the phase must be set (what the lab calibrations find); null: those settings change nothing.
    /// </summary>
    public static LinkRig CreateEmulated(LinkProfile baseProfile, EmulatedTimeTaggerOptions taggerOptions, ulong seed,
        EmulatedDeviceTransport transport = EmulatedDeviceTransport.InProcess, DeviceConnectionOptions? connectionOptions = null,
        EmulatedLabTruth? truth = null)
    {
        var devices = new EmulatedLinkDevices(baseProfile, taggerOptions, seed) { Truth = truth ?? new EmulatedLabTruth() };
        var modulatorCable = EmulatedCable.Create(devices.Modulator, transport);
        var detectorCable = EmulatedCable.Create(devices.Detector, transport);
        var taggerCable = EmulatedCable.Create(devices.Tagger, transport);
        // The emulated firmware shares the host's machine (and process): on a loaded machine its threads can stall for
        // seconds, and a pty moves only a few MB/s, so a stopping stream needs time to drain. The timeout only bounds how
        // long a dead device takes to be declared dead; it never slows a healthy exchange.
        var options = connectionOptions ?? new DeviceConnectionOptions { ReplyTimeout = TimeSpan.FromSeconds(5) };
        var rig = new LinkRig(new ProtocolLaserModulator(modulatorCable, options), new ProtocolSinglePhotonDetector(detectorCable, options),
            new ProtocolTimeTagger(taggerCable, options),
            transport == EmulatedDeviceTransport.InProcess ? "emulated devices (in process)" : "emulated devices (pseudo-terminals, System.IO.Ports)")
        {
            Emulated = devices,
            ModulatorCable = modulatorCable,
            DetectorCable = detectorCable,
            TaggerCable = taggerCable,
        };
        rig._owned.AddRange([modulatorCable, detectorCable, taggerCable, devices]);
        return rig;
    }

    /// <summary>Real devices behind the given connectors (serial ports or USB, from a configuration file).</summary>
    public static LinkRig CreateHardware(IDeviceConnector modulator, IDeviceConnector detector, IDeviceConnector tagger, string description,
        DeviceConnectionOptions? connectionOptions = null) =>
        new(new ProtocolLaserModulator(modulator, connectionOptions), new ProtocolSinglePhotonDetector(detector, connectionOptions),
            new ProtocolTimeTagger(tagger, connectionOptions), description);

    /// <summary>Connects the three devices (identity and class checked).</summary>
    public void Connect()
    {
        Modulator.Connect();
        Detector.Connect();
        Tagger.Connect();
    }

    /// <summary>
    /// Sets the devices up for a link: the modulator from <paramref name="settings"/> (pulse rate, intensity levels,
    /// sync divider), every detector head from <paramref name="profile"/> (efficiency and dead time, bias on), the
    /// tagger's sync input. On emulated devices the physics then takes the light from the modulator's settings.
    /// </summary>
    public void Configure(LinkProfile profile, LinkSettings settings, int syncChannel)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(settings);
        _configuration = (profile, settings, checked((ushort)syncChannel));
        settings.ConfigureModulator(Modulator);
        for (int head = 0; head < Detector.Heads; head++)
        {
            Detector.SetEfficiency(head, profile.DetectorEfficiency);
            Detector.SetDeadTimePs(head, profile.DeadTimePs);
            Detector.SetBiasEnabled(head, true);
        }
        Tagger.SetSyncChannel(syncChannel);
    }

    /// <summary>
    /// Starts the tagger's stream and the emission of pulses 0 .. <paramref name="pulses"/> - 1, and stops the emission
    /// once every symbol is streamed. Returns the emission's tag stream, which ends where the emission's light ends in
    /// the tagger's time (<see cref="EmissionTagStream"/>): by itself on the emulator, by stopping the tagger on hardware.
    /// </summary>
    /// <exception cref="InvalidOperationException"><see cref="Configure"/> has not been called.</exception>
    public EmissionTagStream StartEmission(Core.Symbols.ISymbolSource symbols, long pulses)
    {
        var (profile, settings, syncChannel) = _configuration
            ?? throw new InvalidOperationException("Configure the rig (pulse rate, sync) before starting an emission.");
        Tagger.StartStream();
        Modulator.StartEmission(symbols, 0, pulses);
        var modulator = Modulator;
        Task stopped = Task.Run(async () =>
        {
            await modulator.StreamingCompletion.ConfigureAwait(false);
            modulator.StopEmission();
        }, CancellationToken.None);
        // The last pulse's light arrives one fibre delay later, plus cable delays (nanoseconds): 10 µs is plenty.
        long tailPs = (long)Math.Ceiling(profile.FibreDelayPs) + EmissionTailGuardPs;
        return new EmissionTagStream(Tagger, Tagger.StopStream, stopped, pulses, settings.PulsesPerSync, syncChannel, settings.PulsePeriodPs, tailPs);
    }

    /// <summary>Margin after the fibre delay within which a pulse's detections still count as the emission's.</summary>
    public const long EmissionTailGuardPs = 10_000_000;

    /// <summary>Identity and counters of each device, for the run report.</summary>
    public IReadOnlyList<DeviceReport> Report() =>
    [
        DeviceReport.From(Modulator), DeviceReport.From(Detector), DeviceReport.From(Tagger),
    ];

    public void Dispose()
    {
        Tagger.Dispose();
        Modulator.Dispose();
        Detector.Dispose();
        foreach (var owned in _owned) owned.Dispose();
    }
}
