using Qkd.Hardware.Devices;
using Qkd.Protocol;
using Qkd.Protocol.Messages;
using Qkd.Protocol.Transport;

namespace Qkd.Hardware.Detector;

/// <summary>
/// <see cref="ISinglePhotonDetector"/> over the wire protocol (firmware-protocols/single-photon-detector.md), on any
/// transport a connector opens: serial, USB, or an emulated device.
/// </summary>
public sealed class ProtocolSinglePhotonDetector : ProtocolDevice, ISinglePhotonDetector
{
    private volatile bool _blinding;

    public ProtocolSinglePhotonDetector(IDeviceConnector connector, DeviceConnectionOptions? options = null)
        : base(connector, DeviceClass.SinglePhotonDetector, options)
    {
        EventReceived += OnEvent;
    }

    public int Heads => Identity?.ChannelCount ?? throw new InvalidOperationException($"{Name}: connect first.");

    public bool BlindingAlarm => _blinding;

    public double GetEfficiency(int head) => GetParameter(ParameterId.DetectorEfficiencyPpm, Head(head)) / 1e6;

    public void SetEfficiency(int head, double efficiency) =>
        SetParameter(ParameterId.DetectorEfficiencyPpm, Head(head), checked((long)Math.Round(efficiency * 1e6)));

    public long GetGateWidthPs(int head) => GetParameter(ParameterId.DetectorGateWidthPs, Head(head));

    public void SetGateWidthPs(int head, long widthPs) => SetParameter(ParameterId.DetectorGateWidthPs, Head(head), widthPs);

    public long GetGateDelayPs(int head) => GetParameter(ParameterId.DetectorGateDelayPs, Head(head));

    public void SetGateDelayPs(int head, long delayPs) => SetParameter(ParameterId.DetectorGateDelayPs, Head(head), delayPs);

    public long GetDeadTimePs(int head) => GetParameter(ParameterId.DetectorDeadTimePs, Head(head));

    public void SetDeadTimePs(int head, long deadTimePs) => SetParameter(ParameterId.DetectorDeadTimePs, Head(head), deadTimePs);

    public double GetTemperatureKelvin() => GetParameter(ParameterId.DetectorTemperatureMilliKelvin) / 1e3;

    public void SetTemperatureSetPointKelvin(double kelvin) =>
        SetParameter(ParameterId.DetectorTemperatureSetPointMilliKelvin, 0, checked((long)Math.Round(kelvin * 1e3)));

    public void SetGated(bool gated) => SetParameter(ParameterId.DetectorGateMode, 0, gated ? 1 : 0);

    public void SetBiasEnabled(int head, bool enabled) => SetParameter(ParameterId.DetectorBiasEnabled, Head(head), enabled ? 1 : 0);

    public DetectorCounts ReadCounts()
    {
        // Not retried (framing.md section 5): the device restarts its counting window at every read, so a retry after a
        // lost reply would return only the counts since the lost one, and the counts in that reply would be gone.
        byte[] reply = Connection.Request(MessageType.DetectorReadCounts, default, "read counts", idempotent: false);
        try
        {
            return DetectorCounts.Read(reply);
        }
        catch (PayloadFormatException e)
        {
            throw new DeviceException(Name, "read counts", e.Message);
        }
    }

    private void OnEvent(DeviceEvent e)
    {
        if (e.Type != MessageType.StatusChanged) return;
        try { _blinding = (StatusChange.Read(e.Payload).After & StatusFlags.BlindingAlarm) != 0; }
        catch (PayloadFormatException) { /* counted by nobody else; a malformed event changes nothing */ }
    }

    private byte Head(int head)
    {
        if (head < 0 || head >= Heads)
            throw new ArgumentOutOfRangeException(nameof(head), head, $"{Name} has heads 0..{Heads - 1}.");
        return (byte)head;
    }
}
