using System.Net;
using Qkd.Emulation;
using Qkd.Emulation.Fibre;
using Qkd.Emulation.Firmware;
using Qkd.Emulation.Hosting;
using Qkd.Emulation.TimeTagging;
using Qkd.Hardware.Detector;
using Qkd.Hardware.Modulator;
using Qkd.Protocol;
using Qkd.Hardware.TimeTagger;
using Qkd.Hardware.Devices;

namespace Qkd.Node.Devices;

/// <summary>
/// Bob's devices when his node runs on its own with the emulator: the physics (fibre loss, detectors, tagger) fed by
/// the light arriving from Alice's node over the emulated fibre, and Bob's detector and tagger reached through their
/// drivers. Bob's code sees only tags, as with a real receiver.
/// </summary>
public sealed class EmulatedReceiver : IDisposable
{
    private readonly EmulatedDeviceConnector[] _cables;
    private readonly ProtocolLaserModulator _lightSource;

    private EmulatedReceiver(EmulatedLinkDevices devices, EmulatedDeviceConnector[] cables, ProtocolLaserModulator lightSource,
        ProtocolSinglePhotonDetector detector, ProtocolTimeTagger tagger, FibreReceiver fibre)
    {
        Devices = devices;
        _cables = cables;
        _lightSource = lightSource;
        Detector = detector;
        Tagger = tagger;
        Fibre = fibre;
    }

    public EmulatedLinkDevices Devices { get; }

    public ISinglePhotonDetector Detector { get; }

    public ITimeTagger Tagger { get; }

    public FibreReceiver Fibre { get; }

    public EmulatedDeviceConnector DetectorCable => _cables[0];

    public EmulatedDeviceConnector TaggerCable => _cables[1];

    /// <param name="physics">The channel and detectors (fibre length, dark counts, drift...); the light's own settings come down the fibre.</param>
    /// <param name="fibre">Where to listen for Alice's light (port 0: any free port, see <see cref="FibreReceiver.EndPoint"/>).</param>
    public static EmulatedReceiver Create(LinkProfile physics, EmulatedTimeTaggerOptions tagger, ulong seed, IPEndPoint fibre,
        EmulatedDeviceTransport transport = EmulatedDeviceTransport.InProcess)
    {
        var devices = new EmulatedLinkDevices(physics, tagger with { EndPulse = long.MaxValue }, seed);
        var options = new DeviceConnectionOptions { ReplyTimeout = TimeSpan.FromSeconds(5) };
        var detectorCable = EmulatedCable.Create(devices.Detector, transport);
        var taggerCable = EmulatedCable.Create(devices.Tagger, transport);
        // The light source is the far end of the fibre, not a device of Bob's: always in process.
        var lightCable = EmulatedCable.Create(devices.Modulator, EmulatedDeviceTransport.InProcess);
        var lightSource = new ProtocolLaserModulator(lightCable, options);
        lightSource.Connect();
        var detector = new ProtocolSinglePhotonDetector(detectorCable, options);
        var taggerDriver = new ProtocolTimeTagger(taggerCable, options);
        var receiver = new FibreReceiver(fibre, new ModulatorLightSource(lightSource));
        return new EmulatedReceiver(devices, [detectorCable, taggerCable, lightCable], lightSource, detector, taggerDriver, receiver);
    }

    /// <summary>Connects Bob's detector and tagger and sets them up for <paramref name="profile"/> (efficiency, dead time, bias, sync input).</summary>
    public void ConnectAndConfigure(LinkProfile profile, int syncChannel)
    {
        Detector.Connect();
        Tagger.Connect();
        for (int head = 0; head < Detector.Heads; head++)
        {
            Detector.SetEfficiency(head, profile.DetectorEfficiency);
            Detector.SetDeadTimePs(head, profile.DeadTimePs);
            Detector.SetBiasEnabled(head, true);
        }
        Tagger.SetSyncChannel(syncChannel);
    }

    public void Dispose()
    {
        Fibre.Dispose();
        Tagger.Dispose();
        Detector.Dispose();
        _lightSource.Dispose();
        Devices.Dispose();
        foreach (var cable in _cables) cable.Dispose();
    }
}
