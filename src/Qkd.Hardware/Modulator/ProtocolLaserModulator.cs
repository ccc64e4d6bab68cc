using Qkd.Core;
using Qkd.Core.Symbols;
using Qkd.Hardware.Devices;
using Qkd.Protocol;
using Qkd.Protocol.Messages;
using Qkd.Protocol.Transport;

namespace Qkd.Hardware.Modulator;

/// <summary>
/// <see cref="ILaserModulator"/> over the wire protocol (firmware-protocols/laser-modulator.md). Symbols travel as
/// SymbolData stream frames of <see cref="SymbolsPerFrame"/> pulses, packed two per byte straight into the transport's
/// batch buffer (no copy, no allocation per frame); the transport's flow control paces the stream to what the device
/// consumes.
/// </summary>
public sealed class ProtocolLaserModulator : ProtocolDevice, ILaserModulator
{
    /// <summary>Pulses per SymbolData frame: 65 536 symbols = 32 KiB of payload.</summary>
    public const int SymbolsPerFrame = 1 << 16;

    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(60);

    private volatile bool _biasLocked = true;
    private Thread? _streamer;
    private TaskCompletionSource _streaming = CompletedSource();
    private volatile bool _stopStreaming;
    private long _symbolsStreamed;

    public ProtocolLaserModulator(IDeviceConnector connector, DeviceConnectionOptions? options = null)
        : base(connector, DeviceClass.LaserModulator, options)
    {
        EventReceived += OnEvent;
    }

    public bool BiasLocked => _biasLocked;

    public Task StreamingCompletion => _streaming.Task;

    public long SymbolsStreamed => Interlocked.Read(ref _symbolsStreamed);

    public void SetPulseRateHz(long pulseRateHz) => SetParameter(ParameterId.ModulatorPulseRateHz, 0, pulseRateHz);

    public void SetMeanPhotonNumber(Intensity level, double meanPhotonNumber) =>
        SetParameter(ParameterId.ModulatorIntensityMicroPhotons, (byte)level, checked((long)Math.Round(meanPhotonNumber * 1e6)));

    public double GetMeanPhotonNumber(Intensity level) => GetParameter(ParameterId.ModulatorIntensityMicroPhotons, (byte)level) / 1e6;

    public void SetSyncDivider(int divider) => SetParameter(ParameterId.ModulatorSyncDivider, 0, divider);

    public void SetBasisPhaseRadians(Basis basis, double radians) =>
        SetParameter(ParameterId.ModulatorPhaseMilliradians, (byte)basis, checked((long)Math.Round(radians * 1e3)));

    public void StartEmission(ISymbolSource symbols, long firstPulse, long endPulse)
    {
        ArgumentNullException.ThrowIfNull(symbols);
        ArgumentOutOfRangeException.ThrowIfNegative(firstPulse);
        if (endPulse <= firstPulse)
            throw new ArgumentOutOfRangeException(nameof(endPulse), endPulse, $"The end pulse must come after the first ({firstPulse}).");
        Start(firstPulse, connection => Stream(connection, symbols, firstPulse, endPulse));
    }

    public void StartEmission(ISymbolStream symbols, long firstPulse)
    {
        ArgumentNullException.ThrowIfNull(symbols);
        ArgumentOutOfRangeException.ThrowIfNegative(firstPulse);
        Start(firstPulse, connection => Stream(connection, symbols, firstPulse));
    }

    private void Start(long firstPulse, Action<DeviceConnection> stream)
    {
        if (_streamer is { IsAlive: true })
            throw new InvalidOperationException($"{Name}: already emitting; stop first.");
        var start = new byte[8];
        SymbolBlockCodec.WriteHeader(start, firstPulse);
        Connection.Request(MessageType.ModulatorStartEmission, start, $"start emission at pulse {firstPulse}", idempotent: false);
        _stopStreaming = false;
        Interlocked.Exchange(ref _symbolsStreamed, 0);
        _streaming = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var connection = Connection;
        _streamer = new Thread(() => stream(connection)) { IsBackground = true, Name = $"qkd-symbols {Name}" };
        _streamer.Start();
    }

    public StreamSummary StopEmission()
    {
        _stopStreaming = true;
        _streamer?.Join();
        byte[] reply = Connection.Request(MessageType.ModulatorStopEmission, default, "stop emission", idempotent: false, timeout: StopTimeout);
        try { return StreamSummary.Read(reply); }
        catch (PayloadFormatException e) { throw new DeviceException(Name, "stop emission", e.Message); }
    }

    protected override void Dispose(bool disposing)
    {
        _stopStreaming = true;
        base.Dispose(disposing);
        _streamer?.Join(TimeSpan.FromSeconds(5));
    }

    private void Stream(DeviceConnection connection, ISymbolSource symbols, long firstPulse, long endPulse)
    {
        try
        {
            uint sequence = 0;
            for (long pulse = firstPulse; pulse < endPulse && !_stopStreaming; pulse += SymbolsPerFrame)
            {
                // Frames carry an even number of symbols; a final odd pulse is padded with one the device never uses.
                long count = Math.Min(SymbolsPerFrame, endPulse - pulse);
                int symbolsInFrame = (int)(count + (count & 1));
                Span<byte> payload = connection.BeginStreamFrame(MessageType.ModulatorSymbolData, sequence++, SymbolBlockCodec.PayloadLength(symbolsInFrame));
                SymbolBlockCodec.WriteHeader(payload, pulse);
                symbols.FillPacked(pulse, payload[SymbolBlockCodec.HeaderLength..]);
                connection.EndStreamFrame(flush: false);
                Interlocked.Add(ref _symbolsStreamed, count);
            }
            connection.Flush();
            _streaming.TrySetResult();
        }
        catch (Exception e)
        {
            _streaming.TrySetException(e);
        }
    }

    /// <summary>Streams until the symbol stream ends: frames as long as what arrived (read first, then framed).</summary>
    private void Stream(DeviceConnection connection, ISymbolStream symbols, long firstPulse)
    {
        try
        {
            var chunk = new byte[SymbolsPerFrame / 2];
            uint sequence = 0;
            long pulse = firstPulse;
            while (!_stopStreaming)
            {
                int bytes = symbols.ReadPacked(pulse, chunk);
                if (bytes == 0) break;
                Span<byte> payload = connection.BeginStreamFrame(MessageType.ModulatorSymbolData, sequence++, SymbolBlockCodec.HeaderLength + bytes);
                SymbolBlockCodec.WriteHeader(payload, pulse);
                chunk.AsSpan(0, bytes).CopyTo(payload[SymbolBlockCodec.HeaderLength..]);
                connection.EndStreamFrame(flush: bytes < chunk.Length); // a short read: the source is slow, send what we have
                pulse += 2L * bytes;
                Interlocked.Add(ref _symbolsStreamed, 2L * bytes);
            }
            connection.Flush();
            _streaming.TrySetResult();
        }
        catch (Exception e)
        {
            _streaming.TrySetException(e);
        }
    }

    private void OnEvent(DeviceEvent e)
    {
        if (e.Type != MessageType.StatusChanged) return;
        try { _biasLocked = (StatusChange.Read(e.Payload).After & StatusFlags.BiasLocked) != 0; }
        catch (PayloadFormatException) { /* a malformed event changes nothing */ }
    }

    private static TaskCompletionSource CompletedSource()
    {
        var source = new TaskCompletionSource();
        source.SetResult();
        return source;
    }
}
