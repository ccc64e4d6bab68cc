using Qkd.Core.Symbols;
using Qkd.Protocol;
using Qkd.Protocol.Messages;

namespace Qkd.Emulation.Firmware;

/// <summary>
/// An emulated single-photon detector (class 1, one channel per head): the catalog's parameters per head, a cooler
/// whose temperature moves linearly toward its set point in device time and sets TemperatureSettled when it arrives,
/// per-head counters incremented by the physics (<see cref="AddCounts"/>) and read with DetectorReadCounts, bias that
/// the interlock refuses and drops, and an injectable blinding alarm. With a basis modulator (an active two-detector
/// receiver), DetectorStartBasisModulation opens a pattern the host fills with DetectorBasisData frames and the physics
/// reads as Bob's setting per pulse slot (<see cref="BasisPattern"/>); DetectorStopBasisModulation ends it.
/// </summary>
/// <remarks>
/// The pattern is kept in a <see cref="ModulatorSymbolFifo"/>, one nibble per slot (the basis in bit 0, signal
/// intensity): the same bounded memory and back-pressure as the modulator's symbols, and a slot the host never sent
/// (a gap, or beyond the end) reads as vacuum, which the physics takes as "no basis: gate closed".
/// </remarks>
public sealed class EmulatedSinglePhotonDetectorFirmware : FirmwareHost
{
    /// <summary>The cooler is "settled" within this distance of its set point (the model arrives exactly; this absorbs rounding).</summary>
    public const long SettledToleranceMilliKelvin = 50;

    private readonly long[] _counts;
    private readonly double _coolingRateMilliKelvinPerPs;
    private double _temperatureAtChangeMilliKelvin;
    private long _changeTimePs;
    private long _lastReadPs;
    private readonly int _patternBlocks;
    private volatile ModulatorSymbolFifo? _pattern;
    private volatile ModulatorSymbolFifo? _lastPattern;
    private uint _expectedSequence;
    private long _framesReceived;
    private long _basesReceived;
    private byte[] _nibbles = [];

    /// <param name="serialNumber">Reported by Identify.</param>
    /// <param name="heads">Detector heads (channels); 4 for a passive BB84 receiver.</param>
    /// <param name="clock">Device time (cooler, count windows, uptime); null follows the wall clock.</param>
    /// <param name="coolingRateKelvinPerSecond">How fast the cooler moves toward its set point, K/s.</param>
    /// <param name="basisModulator">Whether the module has an active basis modulator (answers the basis messages).</param>
    /// <param name="patternBlocks">Basis pattern memory in 64 KiB blocks of slot nibbles.</param>
    public EmulatedSinglePhotonDetectorFirmware(string serialNumber = "SPD-EMU-0001", int heads = 4, IDeviceClock? clock = null,
        double coolingRateKelvinPerSecond = 0.5, bool basisModulator = false, int patternBlocks = 128)
        : base(DeviceClass.SinglePhotonDetector, heads, serialNumber, clock)
    {
        HasBasisModulator = basisModulator;
        _patternBlocks = patternBlocks;
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

    /// <summary>Whether the module has an active basis modulator.</summary>
    public bool HasBasisModulator { get; }

    /// <summary>The running basis pattern (slot nibbles, basis in bit 0), or null.</summary>
    public ModulatorSymbolFifo? BasisPattern => _pattern;

    /// <summary>The most recent basis pattern (running or ended), or null.</summary>
    public ModulatorSymbolFifo? LastBasisPattern => _lastPattern;

    /// <summary>Raised (under the device lock, on the receive thread) when a basis pattern starts.</summary>
    public event Action<ModulatorSymbolFifo>? BasisModulationStarted;

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
        if (HasBasisModulator && header.Type is MessageType.DetectorStartBasisModulation or MessageType.DetectorStopBasisModulation)
        {
            if (!payload.IsEmpty) return FirmwareReply.WrongLength(DeviceClass, header.Type, payload.Length, "0");
            return header.Type == MessageType.DetectorStartBasisModulation ? StartBasisModulation() : StopBasisModulation();
        }
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
        if (!open) return;
        DropBias();
        if (_pattern is { } pattern)
        {
            // The bias is off: the pattern ends at what was received; later basis frames are ignored.
            pattern.Complete();
            _pattern = null;
            ChangeFlags(StatusFlags.None, StatusFlags.Running);
        }
    }

    protected override void OnDisposing()
    {
        _pattern?.Abort();
        _lastPattern?.Abort();
    }

    protected override void HandleStreamFrame(in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        ModulatorSymbolFifo? pattern = _pattern;
        if (header.Type != MessageType.DetectorBasisData || pattern is null || payload.Length < BasisBlockCodec.HeaderLength)
        {
            CountIgnoredFrame();
            return;
        }
        // Only this (receive) thread touches the stream state: the start and stop requests run on it too.
        if (header.Sequence > _expectedSequence) CountStreamFramesMissed(header.Sequence - _expectedSequence);
        _expectedSequence = header.Sequence + 1;
        _framesReceived++;
        long first;
        try
        {
            first = BasisBlockCodec.ReadFirstIndex(payload);
        }
        catch (PayloadFormatException)
        {
            CountIgnoredFrame();
            return;
        }
        ReadOnlySpan<byte> bits = payload[BasisBlockCodec.HeaderLength..];
        if (_nibbles.Length < 4 * bits.Length) _nibbles = new byte[4 * bits.Length];
        Span<byte> nibbles = _nibbles.AsSpan(0, 4 * bits.Length);
        for (int j = 0; j < bits.Length; j++)
        {
            // Eight slots of one bit to four bytes of two nibbles: basis in bit 0, signal intensity (a known setting).
            int b = bits[j];
            for (int m = 0; m < 4; m++)
                nibbles[4 * j + m] = (byte)(((b >> (2 * m)) & 1) | (((b >> (2 * m + 1)) & 1) << 4));
        }
        if (pattern.Write(first, nibbles, out long gap)) _basesReceived += 8L * bits.Length;
        if (gap > 0) ReportDataLost((ulong)gap, 0, 0);
    }

    protected override void UpdateDerivedState()
    {
        long setPoint = Parameters.Get(ParameterId.DetectorTemperatureSetPointMilliKelvin);
        bool settled = Math.Abs(TemperatureAt(Clock.NowPs) - setPoint) <= SettledToleranceMilliKelvin;
        if (settled) ChangeFlags(StatusFlags.TemperatureSettled);
        else ChangeFlags(StatusFlags.None, StatusFlags.TemperatureSettled);
    }

    private FirmwareReply StartBasisModulation()
    {
        if ((Flags & StatusFlags.InterlockOpen) != 0) return FirmwareReply.Nack(ErrorCode.InterlockOpen, "basis modulation refused: the interlock is open");
        if (_pattern is not null) return FirmwareReply.Nack(ErrorCode.InvalidState, "basis modulation refused: it is already running");
        var pattern = new ModulatorSymbolFifo(0, BasisChoices.DistributionFor(0.5), _patternBlocks);
        _expectedSequence = 0;
        _framesReceived = 0;
        _basesReceived = 0;
        _lastPattern = pattern;
        _pattern = pattern;
        ChangeFlags(StatusFlags.Running);
        BasisModulationStarted?.Invoke(pattern);
        return FirmwareReply.Empty;
    }

    private FirmwareReply StopBasisModulation()
    {
        if (_pattern is { } pattern)
        {
            pattern.Complete();
            _pattern = null;
            ChangeFlags(StatusFlags.None, StatusFlags.Running);
        }
        return FirmwareReply.Ok(new StreamSummary((ulong)_basesReceived, (uint)_framesReceived).ToPayload());
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
