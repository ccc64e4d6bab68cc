using Qkd.Hardware.Detector;
using Qkd.Hardware.Devices;
using Qkd.Hardware.Modulator;
using Qkd.Hardware.TimeTagger;
using Qkd.Node.Link;
using Qkd.Protocol;

namespace Qkd.Node.Devices;

/// <summary>
/// One node's real devices, from its configuration's "devices" section: Alice's laser modulator, or Bob's detector and
/// time tagger, through the same drivers the lab tools use (System.IO.Ports for serial ports, libusb for USB). Opened
/// once when the node starts, so a device that is absent stops the start-up with an error naming it; kept across
/// sessions, and reconnected at the start of a session after a fault broke the last one.
/// </summary>
public sealed class NodeDevices : IDisposable
{
    private readonly string _source;
    private readonly DeviceCalibration? _calibration;

    private NodeDevices(string source, DeviceCalibration? calibration, ILaserModulator? modulator, ISinglePhotonDetector? detector, ITimeTagger? tagger)
    {
        _source = source;
        _calibration = calibration;
        Modulator = modulator;
        Detector = detector;
        Tagger = tagger;
    }

    /// <summary>Alice's modulator (null at Bob).</summary>
    public ILaserModulator? Modulator { get; }

    /// <summary>Bob's detector (null at Alice).</summary>
    public ISinglePhotonDetector? Detector { get; }

    /// <summary>Bob's tagger (null at Alice).</summary>
    public ITimeTagger? Tagger { get; }

    /// <summary>
    /// The drivers for one end's devices, not yet connected. <paramref name="source"/> names the configuration file in
    /// errors; <paramref name="calibration"/> (the config's "calibration" file: Alice's phases, Bob's gate) is applied
    /// every time the devices are configured.
    /// </summary>
    public static NodeDevices Create(DeviceBench bench, bool alice, string source, DeviceCalibration? calibration = null)
    {
        ArgumentNullException.ThrowIfNull(bench);
        bench.Validate(alice ? BenchUse.Alice : BenchUse.Bob);
        var options = bench.ConnectionOptions;
        return alice
            ? new NodeDevices(source, calibration, new ProtocolLaserModulator(bench.Modulator!.Connector(DeviceClass.LaserModulator, bench.SerialWriteTimeout), options), null, null)
            : new NodeDevices(source, calibration, null, new ProtocolSinglePhotonDetector(bench.Detector!.Connector(DeviceClass.SinglePhotonDetector, bench.SerialWriteTimeout), options),
                new ProtocolTimeTagger(bench.Tagger!.Connector(DeviceClass.TimeTagger, bench.SerialWriteTimeout), options));
    }

    /// <summary>
    /// Connects every device that is not connected (identity and class checked). Bob's detector heads and tagger are
    /// then set up from <paramref name="receiver"/>: bias on, efficiency and dead time if given, the gate of the
    /// calibration file if given, the sync input. Alice's modulator gets the calibration file's basis phases.
    /// </summary>
    /// <exception cref="DeviceException">A device is absent or answers wrongly; the message names it, its address and the configuration file.</exception>
    public void ConnectAndConfigure(ReceiverSettings? receiver)
    {
        foreach (IDevice device in new IDevice?[] { Modulator, Detector, Tagger }.OfType<IDevice>())
        {
            if (device.State == ConnectionState.Connected) continue;
            try
            {
                device.Connect();
            }
            catch (DeviceException e)
            {
                // The message already names the device and its port; add where it is configured.
                throw new DeviceException(e.Device, e.Operation, $"{e.Cause} (configured in {_source}, \"devices\")", e);
            }
        }
        if (Detector is null || Tagger is null)
        {
            _calibration?.ApplyTo(Modulator, null);
            return;
        }
        var settings = receiver ?? throw new InvalidOperationException("Bob's devices need the receiver settings.");
        for (int head = 0; head < Detector.Heads; head++)
        {
            if (settings.DetectorEfficiency is double efficiency) Detector.SetEfficiency(head, efficiency);
            if (settings.DetectorDeadTimePs is long deadTime) Detector.SetDeadTimePs(head, deadTime);
            Detector.SetBiasEnabled(head, true);
        }
        _calibration?.ApplyTo(null, Detector);
        Tagger.SetSyncChannel(settings.SyncChannel);
    }

    public void Dispose()
    {
        Tagger?.Dispose();
        Detector?.Dispose();
        Modulator?.Dispose();
    }
}
