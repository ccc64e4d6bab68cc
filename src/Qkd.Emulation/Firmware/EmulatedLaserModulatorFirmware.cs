using Qkd.Core.Symbols;
using Qkd.Protocol;
using Qkd.Protocol.Messages;

namespace Qkd.Emulation.Firmware;

/// <summary>
/// An emulated decoy-state laser modulator (class 2; channels = intensity levels 0 signal, 1 decoy, 2 vacuum): the
/// catalog's parameters, a bias control loop whose lock can be lost (StatusChanged without BiasLocked), and emission:
/// ModulatorStartEmission opens a <see cref="ModulatorSymbolFifo"/> that the host fills with SymbolData stream frames
/// and the physics (<see cref="EmulatedLink"/>) reads as Alice's symbols; ModulatorStopEmission ends it.
/// </summary>
/// <remarks>
/// Gaps in the host's stream (a pulse range never sent) are emitted as vacuum, counted in ItemsLost and reported by an
/// Overflow event; missing frame sequence numbers are counted in StreamFramesMissed. Symbol data is consumed on the
/// receive thread outside the device lock; when the FIFO is full the receive thread waits, which is the back-pressure
/// on the host.
/// </remarks>
public sealed class EmulatedLaserModulatorFirmware : FirmwareHost
{
    public const int Levels = 3;

    private readonly int _fifoBlocks;
    private volatile ModulatorSymbolFifo? _emission;
    private volatile ModulatorSymbolFifo? _lastEmission; // read lock-free: the composition reads it under its own lock
    private uint _expectedSequence;
    private long _framesReceived;
    private bool _biasLossInjected;

    /// <param name="serialNumber">Reported by Identify.</param>
    /// <param name="clock">Device time (uptime); null follows the wall clock.</param>
    /// <param name="fifoBlocks">Symbol memory in 64 KiB blocks (see <see cref="ModulatorSymbolFifo"/>).</param>
    public EmulatedLaserModulatorFirmware(string serialNumber = "MOD-EMU-0001", IDeviceClock? clock = null, int fifoBlocks = 128)
        : base(DeviceClass.LaserModulator, Levels, serialNumber, clock)
    {
        _fifoBlocks = fifoBlocks;
        SetPowerOnFlags(StatusFlags.Ready | StatusFlags.BiasLocked);
    }

    public override string Model => "QKD-MOD emulated";

    public override ushort ProductId => 0x7D02;

    /// <summary>
    /// Checked at StartEmission, under the device lock: a non-null text refuses the start with InvalidState (the
    /// composition uses it to require intensity levels the physics can emulate).
    /// </summary>
    public Func<string?>? EmissionCheck { get; set; }

    /// <summary>Raised (under the device lock, on the receive thread) when an emission starts, with its FIFO.</summary>
    public event Action<ModulatorSymbolFifo>? EmissionStarted;

    /// <summary>The running emission's FIFO, or null.</summary>
    public ModulatorSymbolFifo? CurrentEmission => _emission;

    /// <summary>The most recent emission's FIFO (running or ended), or null.</summary>
    public ModulatorSymbolFifo? LastEmission => _lastEmission;

    public bool IsEmitting => _emission is not null;

    public long PulseRateHz
    {
        get { lock (DeviceLock) return Parameters.Get(ParameterId.ModulatorPulseRateHz); }
    }

    public int SyncDivider
    {
        get { lock (DeviceLock) return (int)Parameters.Get(ParameterId.ModulatorSyncDivider); }
    }

    /// <summary>Mean photon number per pulse of a level (0 signal, 1 decoy, 2 vacuum), in 1e-6 photons.</summary>
    public long IntensityMicroPhotons(int level)
    {
        lock (DeviceLock) return Parameters.Get(ParameterId.ModulatorIntensityMicroPhotons, level);
    }

    /// <summary>Phase offset of a basis (0 Z, 1 X), mrad.</summary>
    public long PhaseMilliradians(int basis)
    {
        lock (DeviceLock) return Parameters.Get(ParameterId.ModulatorPhaseMilliradians, basis);
    }

    public bool BiasLocked => (Flags & StatusFlags.BiasLocked) != 0;

    /// <summary>The bias control loop loses lock (StatusChanged without BiasLocked) until <see cref="RegainBiasLock"/>.</summary>
    public void LoseBiasLock()
    {
        lock (DeviceLock)
        {
            _biasLossInjected = true;
            ChangeFlags(StatusFlags.None, StatusFlags.BiasLocked);
        }
    }

    /// <summary>The loop locks again (StatusChanged with BiasLocked).</summary>
    public void RegainBiasLock()
    {
        lock (DeviceLock)
        {
            _biasLossInjected = false;
            ChangeFlags(StatusFlags.BiasLocked);
        }
    }

    protected override FirmwareReply? HandleClassRequest(in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        switch (header.Type)
        {
            case MessageType.ModulatorStartEmission:
                if (payload.Length != 8) return FirmwareReply.WrongLength(DeviceClass, header.Type, payload.Length, "8 (first pulse i64)");
                return StartEmission(ReadInt64(payload));
            case MessageType.ModulatorStopEmission:
                if (!payload.IsEmpty) return FirmwareReply.WrongLength(DeviceClass, header.Type, payload.Length, "0");
                return StopEmission();
            default:
                return null;
        }
    }

    protected override void HandleStreamFrame(in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        ModulatorSymbolFifo? fifo = _emission;
        if (header.Type != MessageType.ModulatorSymbolData || fifo is null || payload.Length < SymbolBlockCodec.HeaderLength)
        {
            CountIgnoredFrame(); // no emission to feed, or not symbol data
            return;
        }
        // Only this thread touches the stream counters (StartEmission runs on it too).
        if (header.Sequence != _expectedSequence && header.Sequence > _expectedSequence)
            CountStreamFramesMissed(header.Sequence - _expectedSequence);
        _expectedSequence = header.Sequence + 1;
        _framesReceived++;
        long firstPulse;
        try
        {
            firstPulse = SymbolBlockCodec.ReadFirstPulse(payload);
        }
        catch (PayloadFormatException)
        {
            CountIgnoredFrame();
            return;
        }
        fifo.Write(firstPulse, payload[SymbolBlockCodec.HeaderLength..], out long gap);
        if (gap > 0)
        {
            lock (DeviceLock)
            {
                double periodPs = 1e12 / Parameters.Get(ParameterId.ModulatorPulseRateHz);
                long begin = firstPulse - gap;
                ReportDataLost((ulong)gap, (long)(begin * periodPs), (long)(firstPulse * periodPs));
            }
        }
    }

    protected override void OnParameterChanged(ParameterDefinition definition, byte channel, long value)
    {
        if (definition.Id == ParameterId.ModulatorBiasDacCode) ChangeFlags(StatusFlags.None, StatusFlags.BiasLocked); // manual code: loop open
    }

    protected override void OnSettingsReset()
    {
        if (!_biasLossInjected) ChangeFlags(StatusFlags.BiasLocked); // the loop takes over again from the default code
    }

    protected override long ReadParameter(ParameterDefinition definition, byte channel) =>
        definition.Id == ParameterId.ModulatorBiasLocked ? (Flags & StatusFlags.BiasLocked) != 0 ? 1 : 0 : base.ReadParameter(definition, channel);

    protected override void OnInterlockChanged(bool open)
    {
        if (open && _emission is { } fifo)
        {
            // The laser goes dark: the emission ends at what was received; later symbol frames are ignored.
            fifo.Complete();
            _emission = null;
            ChangeFlags(StatusFlags.None, StatusFlags.Running);
        }
    }

    protected override void OnDisposing()
    {
        _emission?.Abort();
        _lastEmission?.Abort();
    }

    private FirmwareReply StartEmission(long firstPulse)
    {
        if (firstPulse < 0) return FirmwareReply.Nack(ErrorCode.OutOfRange, $"first pulse {firstPulse} is negative");
        if ((Flags & StatusFlags.InterlockOpen) != 0) return FirmwareReply.Nack(ErrorCode.InterlockOpen, $"emission from pulse {firstPulse} refused: the interlock is open");
        if (_emission is not null) return FirmwareReply.Nack(ErrorCode.InvalidState, $"emission from pulse {firstPulse} refused: already emitting since pulse {_emission.FirstPulse}");
        if (EmissionCheck?.Invoke() is { } problem) return FirmwareReply.Nack(ErrorCode.InvalidState, $"emission from pulse {firstPulse} refused: {problem}");
        var fifo = new ModulatorSymbolFifo(firstPulse, SymbolDistributionOfLevels(), _fifoBlocks);
        _expectedSequence = 0;
        _framesReceived = 0;
        _lastEmission = fifo;
        _emission = fifo;
        ChangeFlags(StatusFlags.Running);
        EmissionStarted?.Invoke(fifo);
        return FirmwareReply.Empty;
    }

    private FirmwareReply StopEmission()
    {
        if (_emission is { } fifo)
        {
            fifo.Complete();
            _emission = null;
            ChangeFlags(StatusFlags.None, StatusFlags.Running);
        }
        ModulatorSymbolFifo? last = _lastEmission;
        return FirmwareReply.Ok(new StreamSummary((ulong)(last?.SymbolsReceived ?? 0), (uint)_framesReceived).ToPayload());
    }

    /// <summary>
    /// The FIFO's <see cref="ISymbolSource.Distribution"/>: the device does not know the host's choice probabilities, so
    /// it reports a neutral one; the physics never reads it (it reads the symbols).
    /// </summary>
    private static SymbolDistribution SymbolDistributionOfLevels() => new(0.5, [1.0 / 3, 1.0 / 3, 1.0 / 3]);
}
