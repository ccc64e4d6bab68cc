using Qkd.Protocol;
using Qkd.Protocol.Messages;

namespace Qkd.Emulation.Firmware;

/// <summary>
/// An emulated single-photon detector (class 1, one channel per head): the catalog's parameters per head, a cooler
/// whose temperature moves linearly toward its set point in device time and sets TemperatureSettled when it arrives,
/// per-head counters incremented by the physics (<see cref="AddCounts"/>) and read with DetectorReadCounts, bias that
/// the interlock refuses and drops, and an injectable blinding alarm.
/// </summary>
public sealed class EmulatedSinglePhotonDetectorFirmware : FirmwareHost
{
    /// <summary>The cooler is "settled" within this distance of its set point (the model arrives exactly; this absorbs rounding).</summary>
    public const long SettledToleranceMilliKelvin = 50;

    private readonly long[] _counts;
    private readonly double _coolingRateMilliKelvinPerPs;
    private double _temperatureAtChangeMilliKelvin;
    private long _changeTimePs;
    private long _lastReadPs;

    /// <param name="serialNumber">Reported by Identify.</param>
    /// <param name="heads">Detector heads (channels); 4 for a passive BB84 receiver.</param>
    /// <param name="clock">Device time (cooler, count windows, uptime); null follows the wall clock.</param>
    /// <param name="coolingRateKelvinPerSecond">How fast the cooler moves toward its set point, K/s.</param>
    public EmulatedSinglePhotonDetectorFirmware(string serialNumber = "SPD-EMU-0001", int heads = 4, IDeviceClock? clock = null,
        double coolingRateKelvinPerSecond = 0.5)
        : base(DeviceClass.SinglePhotonDetector, heads, serialNumber, clock)
    {
        if (!(coolingRateKelvinPerSecond > 0))
            throw new ArgumentOutOfRangeException(nameof(coolingRateKelvinPerSecond), coolingRateKelvinPerSecond, "The cooling rate must be > 0 K/s.");
        _counts = new long[heads];
        _coolingRateMilliKelvinPerPs = coolingRateKelvinPerSecond * 1000 / 1e12;
        // Powered on at the default set point: settled from the start.
        _temperatureAtChangeMilliKelvin = Parameters.Get(ParameterId.DetectorTemperatureSetPointMilliKelvin);
        _changeTimePs = Clock.NowPs;
        _lastReadPs = Clock.NowPs;
        SetPowerOnFlags(StatusFlags.Ready | StatusFlags.TemperatureSettled);
    }

    public override string Model => "QKD-SPD emulated";

    public override ushort ProductId => 0x7D01;

    public int Heads => ChannelCount;

    /// <summary>The diodes' temperature now, mK (moves toward the set point at the cooling rate).</summary>
    public double TemperatureMilliKelvin
    {
        get { lock (DeviceLock) return TemperatureAt(Clock.NowPs); }
    }

    /// <summary>Whether head <paramref name="head"/> has its bias on (a head without bias does not detect).</summary>
    public bool IsBiasEnabled(int head)
    {
        lock (DeviceLock) return Parameters.Get(ParameterId.DetectorBiasEnabled, head) != 0;
    }

    /// <summary>Detection efficiency of a head as a probability (parameter in ppm).</summary>
    public double Efficiency(int head)
    {
        lock (DeviceLock) return Parameters.Get(ParameterId.DetectorEfficiencyPpm, head) / 1e6;
    }

    /// <summary>Gate delay of a head after the gate trigger (the pulse clock), ps.</summary>
    public long GateDelayPs(int head)
    {
        lock (DeviceLock) return Parameters.Get(ParameterId.DetectorGateDelayPs, head);
    }

    /// <summary>Gate width of a head, ps.</summary>
    public long GateWidthPs(int head)
    {
        lock (DeviceLock) return Parameters.Get(ParameterId.DetectorGateWidthPs, head);
    }

    /// <summary>True in gated mode, false free-running.</summary>
    public bool IsGated
    {
        get { lock (DeviceLock) return Parameters.Get(ParameterId.DetectorGateMode) != 0; }
    }

    /// <summary>Dead time of a head, ps.</summary>
    public long DeadTimePs(int head)
    {
        lock (DeviceLock) return Parameters.Get(ParameterId.DetectorDeadTimePs, head);
    }

    /// <summary>
    /// The physics reports detections: adds <paramref name="count"/> to head <paramref name="head"/>'s counter
    /// (thread-safe, no allocation; the streaming path calls it once per batch and head).
    /// </summary>
    public void AddCounts(int head, long count)
    {
        if (count != 0) Interlocked.Add(ref _counts[head], count);
    }

    /// <summary>Bright light drove the heads out of Geiger mode: BlindingAlarm set (StatusChanged).</summary>
    public void InjectBlinding()
    {
        lock (DeviceLock) ChangeFlags(StatusFlags.BlindingAlarm);
    }

    /// <summary>The blinding condition went away.</summary>
    public void ClearBlinding()
    {
        lock (DeviceLock) ChangeFlags(StatusFlags.None, StatusFlags.BlindingAlarm);
    }

    protected override FirmwareReply? HandleClassRequest(in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        if (header.Type != MessageType.DetectorReadCounts) return null;
        if (!payload.IsEmpty) return FirmwareReply.WrongLength(DeviceClass, header.Type, payload.Length, "0");
        long now = Clock.NowPs;
        var counts = new ulong[_counts.Length];
        for (int head = 0; head < counts.Length; head++) counts[head] = (ulong)Interlocked.Exchange(ref _counts[head], 0);
        long window = now - _lastReadPs;
        _lastReadPs = now;
        return FirmwareReply.Ok(new DetectorCounts(window, counts).ToPayload());
    }

    protected override long ReadParameter(ParameterDefinition definition, byte channel) =>
        definition.Id == ParameterId.DetectorTemperatureMilliKelvin
            ? (long)Math.Round(TemperatureAt(Clock.NowPs))
            : base.ReadParameter(definition, channel);

    protected override FirmwareReply? ValidateSet(ParameterDefinition definition, byte channel, long value)
    {
        if (definition.Id == ParameterId.DetectorBiasEnabled && value != 0 && (Flags & StatusFlags.InterlockOpen) != 0)
            return FirmwareReply.Nack(ErrorCode.InterlockOpen, $"{definition.Name} on channel {channel}: {value} refused, the interlock is open");
        if (definition.Id == ParameterId.DetectorTemperatureSetPointMilliKelvin)
        {
            // The cooler starts from wherever it is now toward the new target.
            long now = Clock.NowPs;
            _temperatureAtChangeMilliKelvin = TemperatureAt(now);
            _changeTimePs = now;
        }
        return null;
    }

    protected override void OnParameterChanged(ParameterDefinition definition, byte channel, long value) => UpdateDerivedState();

    protected override void OnSettingsReset()
    {
        long now = Clock.NowPs;
        _temperatureAtChangeMilliKelvin = TemperatureAt(now);
        _changeTimePs = now;
        if ((Flags & StatusFlags.InterlockOpen) != 0) DropBias(); // the default (bias on) is not allowed now
        UpdateDerivedState();
    }

    protected override void OnInterlockChanged(bool open)
    {
        if (open) DropBias();
    }

    protected override void UpdateDerivedState()
    {
        long setPoint = Parameters.Get(ParameterId.DetectorTemperatureSetPointMilliKelvin);
        bool settled = Math.Abs(TemperatureAt(Clock.NowPs) - setPoint) <= SettledToleranceMilliKelvin;
        if (settled) ChangeFlags(StatusFlags.TemperatureSettled);
        else ChangeFlags(StatusFlags.None, StatusFlags.TemperatureSettled);
    }

    private void DropBias()
    {
        for (int head = 0; head < Heads; head++) Parameters.Set(ParameterId.DetectorBiasEnabled, head, 0);
    }

    /// <summary>Linear approach at the cooling rate from the last change, stopping at the set point.</summary>
    private double TemperatureAt(long nowPs)
    {
        double target = Parameters.Get(ParameterId.DetectorTemperatureSetPointMilliKelvin);
        double start = _temperatureAtChangeMilliKelvin;
        double moved = Math.Max(0, nowPs - _changeTimePs) * _coolingRateMilliKelvinPerPs;
        double distance = target - start;
        return Math.Abs(distance) <= moved ? target : start + Math.Sign(distance) * moved;
    }
}
