using Qkd.Core.Symbols;
using Qkd.Hardware.Devices;
using Qkd.Protocol;
using Qkd.Protocol.Messages;
using Qkd.Protocol.Transport;

namespace Qkd.Hardware.Detector;

/// <summary>
/// <see cref="ISinglePhotonDetector"/> over the wire protocol (firmware-protocols/single-photon-detector.md), on any
/// transport a connector opens: serial, USB, or an emulated device. A detector with an active basis modulator is also
/// an <see cref="IBasisModulator"/>: bases travel as DetectorBasisData frames of <see cref="BasesPerFrame"/> slots,
/// packed straight into the transport's batch buffer (no copy, no allocation per frame).
/// </summary>
public sealed class ProtocolSinglePhotonDetector : ProtocolDevice, ISinglePhotonDetector, IBasisModulator
{
    /// <summary>Slots per DetectorBasisData frame: 2^18 bases = 32 KiB of payload.</summary>
    public const int BasesPerFrame = 1 << 18;

    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(60);

    private volatile bool _blinding;
    private Thread? _basisStreamer;
    private TaskCompletionSource _basisStreaming = CompletedSource();
    private volatile bool _stopBasisStream;

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

    public Task BasisStreamingCompletion => _basisStreaming.Task;

    public void StartBasisModulation(IBasisChoices bases, long count)
    {
        ArgumentNullException.ThrowIfNull(bases);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        if (_basisStreamer is { IsAlive: true })
            throw new InvalidOperationException($"{Name}: the basis modulation is running; stop it first.");
        Connection.Request(MessageType.DetectorStartBasisModulation, default, "start basis modulation", idempotent: false);
        _stopBasisStream = false;
        _basisStreaming = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var connection = Connection;
        _basisStreamer = new Thread(() => StreamBases(connection, bases, count)) { IsBackground = true, Name = $"qkd-bases {Name}" };
        _basisStreamer.Start();
    }

    public StreamSummary StopBasisModulation()
    {
        _stopBasisStream = true;
        _basisStreamer?.Join();
        byte[] reply = Connection.Request(MessageType.DetectorStopBasisModulation, default, "stop basis modulation", idempotent: false, timeout: StopTimeout);
        try { return StreamSummary.Read(reply); }
        catch (PayloadFormatException e) { throw new DeviceException(Name, "stop basis modulation", e.Message); }
    }

    protected override void Dispose(bool disposing)
    {
        _stopBasisStream = true;
        base.Dispose(disposing);
        _basisStreamer?.Join(TimeSpan.FromSeconds(5));
    }

    private void StreamBases(DeviceConnection connection, IBasisChoices bases, long count)
    {
        try
        {
            uint sequence = 0;
            for (long index = 0; index < count && !_stopBasisStream; index += BasesPerFrame)
            {
                // Frames carry whole bytes; the last is padded with slots the device applies after the pattern's end.
                long slots = Math.Min(BasesPerFrame, count - index);
                int inFrame = (int)((slots + 7) / 8 * 8);
                Span<byte> payload = connection.BeginStreamFrame(MessageType.DetectorBasisData, sequence++, BasisBlockCodec.PayloadLength(inFrame));
                BasisBlockCodec.WriteHeader(payload, index);
                bases.FillPacked(index, payload[BasisBlockCodec.HeaderLength..]);
                connection.EndStreamFrame(flush: false);
            }
            connection.Flush();
            _basisStreaming.TrySetResult();
        }
        catch (Exception e)
        {
            _basisStreaming.TrySetException(e);
        }
    }

    private static TaskCompletionSource CompletedSource()
    {
        var source = new TaskCompletionSource();
        source.SetResult();
        return source;
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
