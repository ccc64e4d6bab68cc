using Qkd.Core.Random;
using Qkd.Protocol;
using Qkd.Protocol.Messages;

namespace Qkd.Emulation.Firmware;

/// <summary>How the emulated noise source misbehaves (<see cref="EmulatedRandomNumberGeneratorFirmware"/>).</summary>
public enum NoiseFault
{
    /// <summary>Independent uniform bits from the seeded generator.</summary>
    None,

    /// <summary>The source repeats one sample value: every bit is the same (bytes 0x00 or 0xFF).</summary>
    Stuck,

    /// <summary>Every bit is 1 with a fixed probability other than 1/2, independently.</summary>
    Biased,
}

/// <summary>
/// An emulated quantum random number generator (class 4, firmware-protocols/random-number-generator.md). Its noise
/// source is a seeded xoshiro256** (the same seed gives the same bytes: byte k of the source is byte k mod 8, little
/// endian, of the generator's (k / 8)-th output), which a test can make <see cref="NoiseFault.Stuck"/> or
/// <see cref="NoiseFault.Biased"/>, or fail outright (<see cref="InjectSourceFault"/>). The device runs its own SP
/// 800-90B section 4.4 tests (a <see cref="EntropyHealthMonitor"/> with the cutoffs of its parameters) on every sample,
/// withholds blocks while it is not healthy, and streams the rest as RngEntropyData frames at its rate limit in device
/// time.
/// </summary>
/// <remarks>
/// <para>Start-up. At power-up, and when a source fault clears, the device tests
/// <see cref="StartupBytes"/> bytes (16 384 samples) of its source that are never sent; the first stream therefore
/// begins with source byte 2048.</para>
/// <para>Rate and time. While a stream runs, the source produces bytes at RngRateLimitBytesPerSecond of device time
/// (<see cref="FirmwareHost.Clock"/>), with an allowance of at most <see cref="MaxAllowanceBytes"/>; a block is made once
/// its bytes have accrued. With a <see cref="ManualDeviceClock"/> nothing is produced until the test advances the
/// clock, so the number of blocks is exact: a test releases N blocks by advancing N × block size / rate.</para>
/// <para>Faults apply from the next block the device starts. A stuck source draws nothing from the generator, so
/// after it clears the stream continues with the generator's next bytes. Threads: a streaming thread produces, tests and sends;
/// requests run on the receive thread. Lock order: device lock, then the output lock, then the stream lock, then the
/// noise lock; the stream and noise locks are innermost (nothing else is taken under them).</para>
/// </remarks>
public sealed class EmulatedRandomNumberGeneratorFirmware : StreamingFirmwareHost
{
    /// <summary>Bytes the start-up test draws: 16 384 samples, 16 windows of the Adaptive Proportion Test.</summary>
    public const int StartupBytes = 2048;

    /// <summary>Largest allowance the rate limit accrues while the host does not take the data (the FIFO).</summary>
    public const long MaxAllowanceBytes = 256 * 1024;

    private const long PicosecondsPerSecond = 1_000_000_000_000;

    private readonly object _noiseGate = new();
    private readonly Xoshiro256StarStar _random;
    private readonly EntropyHealthMonitor _monitor;
    private readonly byte[] _block = new byte[EntropyBlockCodec.MaxEntropyBytes];
    private readonly List<(long Blocks, TaskCompletionSource Sent)> _sentWaiters = new();
    // The base class's poll timer may fire before this constructor has built the noise source.
    private volatile bool _poweredOn;

    // Noise source (under _noiseGate).
    private ulong _word;
    private int _wordBytes;
    private NoiseFault _fault;
    private bool _stuckValue;
    private uint _biasThreshold;
    private ulong _biasWord;
    private int _biasDraws;
    private bool _sourceFault;
    private bool _startupPassed;
    private long _bytesWithheld;
    private uint _sourceFaults;

    // Health flags as last reported (under the device lock).
    private RngHealthFlags _reportedFlags;

    // Stream (under StreamGate).
    private uint _sequence;
    private long _produced;
    private long _bytesSent;
    private uint _blocksSent;
    private long _rate;
    private long _allowance;
    private long _accruedToPs;
    private Int128 _allowanceFraction;

    /// <param name="seed">Seeds the noise source.</param>
    /// <param name="serialNumber">Reported by Identify.</param>
    /// <param name="clock">Device time (rate limit, uptime); null follows the wall clock.</param>
    public EmulatedRandomNumberGeneratorFirmware(ulong seed = 1, string serialNumber = "QRNG-EMU-0001", IDeviceClock? clock = null)
        : base(DeviceClass.RandomNumberGenerator, 1, serialNumber, clock)
    {
        _random = new Xoshiro256StarStar(seed);
        _monitor = new EntropyHealthMonitor(EntropySampleKind.Binary, (int)Parameters.Get(ParameterId.RngRepetitionCutoffSamples),
            (int)Parameters.Get(ParameterId.RngProportionCutoffSamples), StartupBytes * 8L);
        _rate = Parameters.Get(ParameterId.RngRateLimitBytesPerSecond);
        lock (_noiseGate)
        {
            RunStartupTest();
            _reportedFlags = CurrentFlags();
        }
        SetPowerOnFlags(StatusFlags.Ready);
        _poweredOn = true;
    }

    public override string Model => "QKD-QRNG emulated";

    public override ushort ProductId => 0x7D04;

    /// <summary>Entropy bytes sent in the current (or last) stream.</summary>
    public long BytesSent
    {
        get { lock (StreamGate) return _bytesSent; }
    }

    /// <summary>RngEntropyData frames sent in the current (or last) stream.</summary>
    public long BlocksSent
    {
        get { lock (StreamGate) return _blocksSent; }
    }

    /// <summary>Bytes the source produced in the current (or last) stream, withheld ones included (the next block's offset).</summary>
    public long BytesProduced
    {
        get { lock (StreamGate) return _produced; }
    }

    /// <summary>
    /// Completes once the current stream has sent <paramref name="blocks"/> RngEntropyData frames (at once if it has).
    /// With a manual clock a test advances time by a known number of blocks and waits for them here, instead of
    /// waiting on time; a host that then stops the stream has received all of them before the reply.
    /// </summary>
    public Task WaitForBlocksSentAsync(long blocks, CancellationToken cancellationToken = default)
    {
        var sent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (StreamGate)
        {
            if (_blocksSent >= blocks) return Task.CompletedTask;
            _sentWaiters.Add((blocks, sent));
        }
        return sent.Task.WaitAsync(cancellationToken);
    }

    /// <summary>The health flags as the device reports them now.</summary>
    public RngHealthFlags HealthFlags
    {
        get { lock (_noiseGate) return CurrentFlags(); }
    }

    /// <summary>What RngGetHealth answers now.</summary>
    public RngHealthReport HealthReport
    {
        get { lock (_noiseGate) return Report(); }
    }

    public NoiseFault Fault
    {
        get { lock (_noiseGate) return _fault; }
    }

    /// <summary>The noise source repeats one value from the next block on: every bit <paramref name="value"/>.</summary>
    public void InjectStuck(bool value = false)
    {
        lock (_noiseGate)
        {
            _fault = NoiseFault.Stuck;
            _stuckValue = value;
        }
    }

    /// <summary>From the next block on, every bit is 1 with probability <paramref name="probabilityOfOne"/> (0..1), independently.</summary>
    public void InjectBias(double probabilityOfOne = 0.6)
    {
        if (!(probabilityOfOne >= 0 && probabilityOfOne <= 1))
            throw new ArgumentOutOfRangeException(nameof(probabilityOfOne), probabilityOfOne, "A probability is 0..1.");
        lock (_noiseGate)
        {
            _fault = NoiseFault.Biased;
            // A bit is 1 when a 16-bit draw is below the threshold: P(1) = threshold / 65536.
            _biasThreshold = (uint)Math.Round(probabilityOfOne * 65536);
        }
    }

    /// <summary>The noise source is good again from the next block on (the device recovers by its own rule).</summary>
    public void ClearNoiseFault()
    {
        lock (_noiseGate) _fault = NoiseFault.None;
    }

    /// <summary>
    /// The noise source fails: SourceFault (RngHealthChanged) and Fault (StatusChanged); nothing is produced or sent until
    /// <see cref="ClearSourceFault"/>.
    /// </summary>
    public void InjectSourceFault()
    {
        lock (DeviceLock)
        {
            lock (_noiseGate)
            {
                if (_sourceFault) return;
                _sourceFault = true;
                _startupPassed = false;
                _sourceFaults++;
            }
            PublishHealth();
            ChangeFlags(StatusFlags.Fault);
        }
    }

    /// <summary>The noise source works again: the start-up test runs (16 384 samples, not sent), then the flags follow.</summary>
    public void ClearSourceFault()
    {
        lock (DeviceLock)
        {
            lock (_noiseGate)
            {
                if (!_sourceFault) return;
                _sourceFault = false;
                _monitor.Restart();
                RunStartupTest();
            }
            lock (StreamGate)
            {
                // The allowance starts now, even if the streaming thread saw the fault a moment ago and is about to
                // reset it: it takes the fault and the reset under this lock, and this comes after it.
                _accruedToPs = Clock.NowPs;
                _allowanceFraction = 0;
            }
            PublishHealth();
            ChangeFlags(StatusFlags.None, StatusFlags.Fault);
        }
    }

    protected override FirmwareReply? HandleClassRequest(in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        switch (header.Type)
        {
            case MessageType.RngStartStream:
                if (!payload.IsEmpty) return FirmwareReply.WrongLength(DeviceClass, header.Type, payload.Length, "0");
                if (IsStreaming)
                    return FirmwareReply.Nack(ErrorCode.InvalidState, $"RngStartStream refused: already streaming ({BytesSent} bytes sent)");
                StartStream();
                return FirmwareReply.Empty;
            case MessageType.RngStopStream:
                if (!payload.IsEmpty) return FirmwareReply.WrongLength(DeviceClass, header.Type, payload.Length, "0");
                return StopStream();
            case MessageType.RngGetHealth:
                if (!payload.IsEmpty) return FirmwareReply.WrongLength(DeviceClass, header.Type, payload.Length, "0");
                lock (_noiseGate) return FirmwareReply.Ok(Report().ToPayload());
            default:
                return null;
        }
    }

    protected override void OnParameterChanged(ParameterDefinition definition, byte channel, long value)
    {
        switch (definition.Id)
        {
            case ParameterId.RngRateLimitBytesPerSecond:
                SetRate(value);
                break;
            case ParameterId.RngRepetitionCutoffSamples:
            case ParameterId.RngProportionCutoffSamples:
                ApplyCutoffs();
                break;
        }
    }

    protected override void OnSettingsReset()
    {
        SetRate(Parameters.Get(ParameterId.RngRateLimitBytesPerSecond));
        ApplyCutoffs();
    }

    /// <summary>Keeps the reported health flags current (every request and the periodic poll come through here).</summary>
    protected override void UpdateDerivedState()
    {
        if (_poweredOn) PublishHealth();
    }

    // ---- Requests (under the device lock) ----------------------------------------------------------------------------

    // A new stream (under the output and stream locks): sequence numbers, offsets and the rate allowance from 0.
    protected override void BeginStream()
    {
        base.BeginStream();
        _sequence = 0;
        _produced = 0;
        _bytesSent = 0;
        _blocksSent = 0;
        _allowance = 0;
        _allowanceFraction = 0;
        _accruedToPs = Clock.NowPs;
    }

    protected override StreamSummary SummarizeStream() => new((ulong)_bytesSent, _blocksSent);

    private void SetRate(long bytesPerSecond)
    {
        lock (StreamGate)
        {
            // The allowance accrued at the old rate up to now is kept; the new rate applies from now.
            if (IsStreaming) Accrue();
            _rate = bytesPerSecond;
        }
    }

    private void ApplyCutoffs()
    {
        int repetition = (int)Parameters.Get(ParameterId.RngRepetitionCutoffSamples);
        int proportion = (int)Parameters.Get(ParameterId.RngProportionCutoffSamples);
        lock (_noiseGate) _monitor.SetCutoffs(repetition, proportion);
    }

    /// <summary>Reports a change of the health flags with RngHealthChanged. Under the device lock.</summary>
    private void PublishHealth()
    {
        RngHealthReport report;
        lock (_noiseGate) report = Report();
        if (report.Flags == _reportedFlags) return;
        _reportedFlags = report.Flags;
        SendEvent(MessageType.RngHealthChanged, report.ToPayload());
    }

    // ---- Streaming thread ----------------------------------------------------------------------------------------

    protected override void RunStream(CancellationToken token)
    {
        while (!token.IsCancellationRequested)
        {
            int generation = WaitUntilRunning(token);
            if (generation < 0) return;
            int blockSize;
            lock (DeviceLock) blockSize = (int)Parameters.Get(ParameterId.RngBlockSizeBytes);
            bool sourceFault;
            lock (StreamGate)
            {
                lock (_noiseGate) sourceFault = _sourceFault;
                if (sourceFault)
                {
                    // A failed source samples nothing, so no allowance accrues for it either.
                    _accruedToPs = Clock.NowPs;
                    _allowanceFraction = 0;
                }
            }
            if (sourceFault)
            {
                Pause(TimeSpan.FromMilliseconds(10), token);
                continue;
            }
            bool outputOpen;
            lock (OutputLock) outputOpen = OutputOpen;
            long allowance;
            lock (StreamGate)
            {
                Accrue();
                allowance = _allowance;
            }
            if (!outputOpen)
            {
                Pause(TimeSpan.FromMilliseconds(10), token);
                continue;
            }
            if (allowance < blockSize)
            {
                Pause(TimeUntilAccrued(blockSize - allowance), token);
                continue;
            }

            bool usable;
            lock (_noiseGate)
            {
                Produce(_block.AsSpan(0, blockSize));
                usable = _monitor.Test(_block.AsSpan(0, blockSize));
                if (_monitor.State == EntropyHealthState.Healthy) _startupPassed = true;
                if (!usable) _bytesWithheld += blockSize;
            }
            long offset;
            lock (StreamGate)
            {
                if (generation != StreamGeneration) continue; // stopped while the block was made: it belongs to no stream
                _allowance -= blockSize;
                offset = _produced;
                _produced += blockSize;
            }
            lock (DeviceLock) PublishHealth(); // a failure is announced before anything after it is sent
            if (usable) Send(generation, offset, blockSize);
        }
    }

    /// <summary>Writes one block as an RngEntropyData frame, unless its stream ended meanwhile.</summary>
    private void Send(int generation, long offset, int blockSize)
    {
        lock (OutputLock)
        {
            uint sequence;
            lock (StreamGate)
            {
                if (!IsStreaming || generation != StreamGeneration) return;
                sequence = _sequence++;
            }
            if (!OutputOpen) return;
            Span<byte> payload = BeginOutputFrame(
                new FrameHeader(DeviceClass.RandomNumberGenerator, MessageType.RngEntropyData, FrameFlags.Stream, sequence, 0),
                EntropyBlockCodec.PayloadLength(blockSize));
            EntropyBlockCodec.WriteHeader(payload, offset);
            _block.AsSpan(0, blockSize).CopyTo(payload[EntropyBlockCodec.HeaderLength..]);
            EndOutputFrame();
            FlushOutput();
            lock (StreamGate)
            {
                _bytesSent += blockSize;
                _blocksSent++;
                _sentWaiters.RemoveAll(w => w.Blocks <= _blocksSent && w.Sent.TrySetResult());
            }
        }
    }

    /// <summary>
    /// How long the allowance takes to grow by <paramref name="missingBytes"/> if device time follows the wall. Device
    /// time may be a manual clock that only a test moves, so this is only a poll interval: 1 to 10 ms.
    /// </summary>
    private TimeSpan TimeUntilAccrued(long missingBytes)
    {
        long rate;
        lock (StreamGate) rate = _rate;
        return TimeSpan.FromMilliseconds(Math.Clamp(missingBytes * 1000.0 / rate, 1, 10));
    }

    /// <summary>Waits <paramref name="time"/>, or less when a request (start, stop, plug) pulses the stream lock.</summary>
    private void Pause(TimeSpan time, CancellationToken token)
    {
        lock (StreamGate)
        {
            if (token.IsCancellationRequested) return;
            Monitor.Wait(StreamGate, time);
        }
    }

    /// <summary>Adds the allowance accrued since the last call at the current rate, exactly (no rounding drift). Under the stream lock.</summary>
    private void Accrue()
    {
        long now = Clock.NowPs;
        long elapsed = now - _accruedToPs;
        if (elapsed <= 0) return;
        _accruedToPs = now;
        Int128 scaled = (Int128)_rate * elapsed + _allowanceFraction;
        Int128 bytes = scaled / PicosecondsPerSecond;
        _allowanceFraction = scaled % PicosecondsPerSecond;
        if (_allowance + bytes >= MaxAllowanceBytes)
        {
            _allowance = MaxAllowanceBytes;
            _allowanceFraction = 0;
            return;
        }
        _allowance += (long)bytes;
    }

    // ---- Noise source (under _noiseGate) ---------------------------------------------------------------------------

    private void RunStartupTest()
    {
        // Not the block buffer: the streaming thread may be copying a block out of it while a source fault clears.
        Span<byte> startup = stackalloc byte[StartupBytes];
        Produce(startup);
        _monitor.Test(startup);
        _startupPassed = _monitor.State == EntropyHealthState.Healthy;
    }

    private RngHealthFlags CurrentFlags()
    {
        var flags = RngHealthFlags.None;
        if (_startupPassed) flags |= RngHealthFlags.StartupTestPassed;
        if (_monitor.State == EntropyHealthState.Failed) flags |= RngHealthFlags.ContinuousTestFailure;
        if (_sourceFault) flags |= RngHealthFlags.SourceFault;
        return flags;
    }

    private RngHealthReport Report() => new(CurrentFlags(), (ulong)_monitor.SamplesTested, (ulong)_monitor.RepetitionCountFailures,
        (ulong)_monitor.AdaptiveProportionFailures, (ulong)_bytesWithheld, _sourceFaults);

    private void Produce(Span<byte> destination)
    {
        switch (_fault)
        {
            case NoiseFault.Stuck:
                destination.Fill(_stuckValue ? (byte)0xFF : (byte)0x00);
                return;
            case NoiseFault.Biased:
                for (int i = 0; i < destination.Length; i++)
                {
                    int value = 0;
                    for (int bit = 0; bit < 8; bit++)
                        if (NextDraw16() < _biasThreshold) value |= 1 << bit;
                    destination[i] = (byte)value;
                }
                return;
            default:
                for (int i = 0; i < destination.Length; i++)
                {
                    if (_wordBytes == 0)
                    {
                        _word = _random.NextUInt64();
                        _wordBytes = 8;
                    }
                    destination[i] = (byte)_word;
                    _word >>= 8;
                    _wordBytes--;
                }
                return;
        }
    }

    private uint NextDraw16()
    {
        if (_biasDraws == 0)
        {
            _biasWord = _random.NextUInt64();
            _biasDraws = 4;
        }
        uint draw = (uint)(_biasWord & 0xFFFF);
        _biasWord >>= 16;
        _biasDraws--;
        return draw;
    }
}
