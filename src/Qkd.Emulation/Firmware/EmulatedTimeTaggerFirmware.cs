using Qkd.Core.TimeTags;
using Qkd.Protocol;
using Qkd.Protocol.Messages;

namespace Qkd.Emulation.Firmware;

/// <summary>
/// An emulated time tagger (class 3, channels = inputs). TaggerStartStream starts (or restarts) a stream: a streaming
/// thread pulls tags from the physics (an <see cref="ITimeTagSource"/>, e.g. an <see cref="TimeTagging.EmulatedTimeTagger"/>
/// over the <see cref="EmulatedLink"/>), applies each input's InputDelayPs and channel-enable, replaces test-signal
/// inputs by the internal periodic test signal, and sends the tags in time order as TagData frames of up to
/// <see cref="TagRecordCodec.MaxRecordsPerFrame"/> records, sequence numbers from 0 per start. TaggerStopStream answers
/// with the stream's summary and nothing of that stream follows it. When the physics ends, the device stops streaming
/// by itself and reports it with StatusChanged (Running cleared).
/// </summary>
/// <remarks>
/// <para>Emulated time. The tagger's clock is the physics' clock: its time only moves as tags are pulled. A stopped,
/// unplugged or hung tagger therefore pauses the physics instead of losing what happened meanwhile; a restart continues
/// exactly where the stream stopped. Losses are injected explicitly and deterministically:
/// <see cref="InjectOverflow"/> drops the next N tags, <see cref="Unplug(long)"/> drops the tags of a span of device
/// time. Either way the stream carries the gap in band (OverflowBegin at the first lost tag, OverflowEnd with
/// MissedEvents at the last, both on channel 0; MissedEvents saturates at 2^32 - 1) and the device sends an Overflow
/// event and counts ItemsLost.</para>
/// <para>Unplug/plug. The stream state survives a re-plug: the device resumes streaming into the new transport by
/// itself, continuing the sequence numbers; a host that restarts the stream (StartStream while running) gets sequence
/// numbers from 0 and the same continuing tags.</para>
/// <para>Streaming path: fixed buffers, tags written into the frame payload in place, one flush per batch.</para>
/// </remarks>
public sealed class EmulatedTimeTaggerFirmware : StreamingFirmwareHost
{
    private const int PullBatch = 4096;

    private readonly Func<ITimeTagSource> _streamSource;
    private readonly TagReorderBuffer _reorder = new();
    private readonly TimeTag[] _raw = new TimeTag[PullBatch];
    private readonly TimeTag[] _frame = new TimeTag[TagRecordCodec.MaxRecordsPerFrame];
    private readonly long[] _delays;
    private readonly bool[] _enabled;
    private readonly bool[] _testSignal;
    private readonly long[] _nextTestPs;
    private ITimeTagSource? _source;
    private uint _sequence;
    private long _tagsSent;
    private uint _framesSent;
    private int _frameCount;
    private long _lastSourcePs = long.MinValue;
    private long _testPeriodPs;
    private long _minDelayPs;

    // Injected input misses per channel: set by MissInputPulses, consumed by the streaming thread (under StreamGate).
    private readonly long[] _missesPending;
    private volatile bool _missInjected;
    private long _inputPulsesMissed;

    // Injected losses: set by the hooks, consumed by the streaming thread (under StreamGate).
    private volatile bool _lossInjected;
    private long _pendingDropTags;
    private long _pendingLossPs;
    private long _dropRemaining;
    private long _lossUntilPs = long.MinValue;
    private bool _lossArmed;
    private long _runMissed;
    private long _runBeginPs;
    private long _runEndPs;

    /// <param name="streamSource">
    /// The physics: called by the streaming thread at every TaggerStartStream (never while it is reading the previous
    /// source); may return the same source again to continue it. Its time is the tagger's clock.
    /// </param>
    /// <param name="serialNumber">Reported by Identify.</param>
    /// <param name="inputs">Input channels.</param>
    /// <param name="clock">Device time (uptime); null follows the wall clock.</param>
    public EmulatedTimeTaggerFirmware(Func<ITimeTagSource> streamSource, string serialNumber = "TT-EMU-0001", int inputs = 8, IDeviceClock? clock = null)
        : base(DeviceClass.TimeTagger, inputs, serialNumber, clock)
    {
        ArgumentNullException.ThrowIfNull(streamSource);
        _streamSource = streamSource;
        _delays = new long[inputs];
        _enabled = new bool[inputs];
        _testSignal = new bool[inputs];
        _nextTestPs = new long[inputs];
        _missesPending = new long[inputs];
        SetPowerOnFlags(StatusFlags.Ready);
    }

    public override string Model => "QKD-TT emulated";

    public override ushort ProductId => 0x7D03;

    /// <summary>Tags of the current (or last) stream sent so far.</summary>
    public long TagsSent
    {
        get { lock (StreamGate) return _tagsSent; }
    }

    /// <summary>Physics tags on inputs this tagger does not have (dropped).</summary>
    public long TagsOnMissingInputs { get; private set; }

    /// <summary>Tags clamped to keep time order after an input delay changed mid-stream.</summary>
    public long OrderClamps => _reorder.OrderClamps;

    /// <summary>
    /// FIFO overflow: the next <paramref name="tags"/> tags of the stream are dropped and reported in band
    /// (OverflowBegin/OverflowEnd with MissedEvents = the count), by an Overflow event and in ItemsLost.
    /// </summary>
    public void InjectOverflow(long tags)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tags);
        lock (StreamGate)
        {
            _pendingDropTags += tags;
            _lossInjected = true;
        }
    }

    /// <summary>
    /// The next <paramref name="pulses"/> pulses on input <paramref name="channel"/> are missed without a trace (a
    /// discriminator that did not trigger, a cable plugged in late): unlike an overflow nothing reports them, as a real
    /// tagger cannot know of a pulse it did not see. On the sync input this loses the stream's first sync tags.
    /// </summary>
    public void MissInputPulses(int channel, long pulses)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(channel);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(channel, _delays.Length);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pulses);
        lock (StreamGate)
        {
            _missesPending[channel] += pulses;
            _missInjected = true;
        }
    }

    /// <summary>Input pulses missed as <see cref="MissInputPulses"/> asked, so far.</summary>
    public long InputPulsesMissed => Interlocked.Read(ref _inputPulsesMissed);

    /// <summary>
    /// The device vanishes while its physics keeps running: the tags of the next <paramref name="lostPicoseconds"/> of
    /// device time are lost (reported as an overflow when the stream resumes after <see cref="FirmwareHost.Plug"/>).
    /// </summary>
    public void Unplug(long lostPicoseconds)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(lostPicoseconds);
        if (lostPicoseconds > 0)
            lock (StreamGate)
            {
                _pendingLossPs += lostPicoseconds;
                _lossInjected = true;
            }
        Unplug();
    }

    protected override FirmwareReply? HandleClassRequest(in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        switch (header.Type)
        {
            case MessageType.TaggerStartStream:
                if (!payload.IsEmpty) return FirmwareReply.WrongLength(DeviceClass, header.Type, payload.Length, "0");
                if (IsStreaming)
                    return FirmwareReply.Nack(ErrorCode.InvalidState, $"TaggerStartStream refused: already streaming ({TagsSent} tags sent)");
                StartStream();
                return FirmwareReply.Empty;
            case MessageType.TaggerStopStream:
                if (!payload.IsEmpty) return FirmwareReply.WrongLength(DeviceClass, header.Type, payload.Length, "0");
                return StopStream();
            default:
                return null;
        }
    }

    // Unplugging ends the stream (StreamingFirmwareHost) like a USB re-enumeration; the physics and the tags not yet
    // sent are kept, so the stream the host restarts after reconnecting continues where this one stopped.

    // A new stream (under the output and stream locks): sequence numbers and summary counters from 0; the tags continue.
    protected override void BeginStream()
    {
        base.BeginStream();
        _sequence = 0;
        _tagsSent = 0;
        _framesSent = 0;
    }

    protected override StreamSummary SummarizeStream() => new((ulong)_tagsSent, _framesSent);

    // ---- Streaming thread ----------------------------------------------------------------------------------------

    /// <summary>Raised (under the device lock) when the tag stream starts (true) or stops (false).</summary>
    public event Action<bool>? StreamingChanged;

    protected override void OnStreamingChanged(bool running) => StreamingChanged?.Invoke(running);

    protected override void RunStream(CancellationToken token)
    {
        int sourceGeneration = -1;
        try
        {
            while (!token.IsCancellationRequested)
            {
                int generation = WaitUntilRunning(token);
                if (generation < 0) return;
                if (generation != sourceGeneration || _source is null)
                {
                    // Every start asks for the source of its stream; the same source continues where it stopped.
                    ITimeTagSource source = _streamSource();
                    if (!ReferenceEquals(source, _source)) ForgetStream();
                    _source = source;
                    sourceGeneration = generation;
                }
                ReadSettings();
                int n = _source.Read(_raw, token);
                if (n == 0)
                {
                    Drain(long.MaxValue, token);
                    FlushFrame(token);
                    EndOfPhysics();
                    continue;
                }
                ProcessInput(n);
                Drain(_lastSourcePs == long.MinValue ? long.MinValue : _lastSourcePs + _minDelayPs, token);
                FlushFrame(token);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            // The physics failed (e.g. its symbol memory was shut down): a device fault, not a crash of the process.
            StreamFault = e;
            lock (DeviceLock)
            {
                lock (OutputLock)
                {
                    lock (StreamGate) EndStream();
                }
                ChangeFlags(StatusFlags.Fault, StatusFlags.Running);
                _source = null;
                ForgetWorker(); // the next start gets a fresh thread
            }
        }
    }

    /// <summary>What stopped the streaming thread, if the physics threw (then the Fault flag is set).</summary>
    public Exception? StreamFault { get; private set; }

    private void ReadSettings()
    {
        lock (DeviceLock)
        {
            long minDelay = long.MaxValue;
            for (int ch = 0; ch < _delays.Length; ch++)
            {
                _delays[ch] = Parameters.Get(ParameterId.TaggerInputDelayPs, ch);
                _enabled[ch] = Parameters.Get(ParameterId.TaggerChannelEnabled, ch) != 0;
                bool test = Parameters.Get(ParameterId.TaggerTestSignalEnabled, ch) != 0;
                if (!test) _nextTestPs[ch] = long.MinValue; // re-phased when switched on again
                _testSignal[ch] = test;
                minDelay = Math.Min(minDelay, _delays[ch]);
            }
            long period = Parameters.Get(ParameterId.TaggerTestSignalPeriodPs);
            if (period != _testPeriodPs) Array.Fill(_nextTestPs, long.MinValue);
            _testPeriodPs = period;
            _minDelayPs = minDelay;
        }
    }

    /// <summary>Input stage: enable, test-signal substitution, delay, into the reorder buffer.</summary>
    private void ProcessInput(int n)
    {
        long firstPs = _raw[0].TimePs;
        for (int i = 0; i < n; i++)
        {
            ref readonly TimeTag tag = ref _raw[i];
            int ch = tag.Channel;
            if (ch >= _delays.Length)
            {
                TagsOnMissingInputs++;
                continue;
            }
            if (!_enabled[ch] || _testSignal[ch]) continue;
            if (_missInjected && IsMissed(ch)) continue;
            _reorder.Insert(new TimeTag(tag.TimePs + _delays[ch], tag.Channel, tag.Kind, tag.MissedEvents));
        }
        long lastPs = _raw[n - 1].TimePs;
        // The test signal: edges at multiples of the period of device time, up to where the physics has got to.
        for (int ch = 0; ch < _testSignal.Length; ch++)
        {
            if (!_testSignal[ch] || !_enabled[ch]) continue;
            long next = _nextTestPs[ch];
            if (next == long.MinValue)
            {
                long from = _lastSourcePs == long.MinValue ? firstPs : _lastSourcePs;
                next = (from / _testPeriodPs + 1) * _testPeriodPs;
            }
            for (; next <= lastPs; next += _testPeriodPs) _reorder.Insert(new TimeTag(next + _delays[ch], (ushort)ch));
            _nextTestPs[ch] = next;
        }
        _lastSourcePs = lastPs;
    }

    /// <summary>Whether an injected miss takes this pulse on input <paramref name="channel"/>.</summary>
    private bool IsMissed(int channel)
    {
        lock (StreamGate)
        {
            if (_missesPending[channel] == 0) return false;
            _missesPending[channel]--;
            _missInjected = Array.Exists(_missesPending, m => m > 0);
            Interlocked.Increment(ref _inputPulsesMissed);
            return true;
        }
    }

    /// <summary>Output stage: releases ordered tags up to the watermark through the loss logic into frames.</summary>
    private void Drain(long watermarkPs, CancellationToken token)
    {
        while (_reorder.TryRelease(watermarkPs, out TimeTag tag))
        {
            if (IsLost(tag, token)) continue;
            Append(tag, token);
        }
        if (watermarkPs == long.MaxValue) CloseLossRun(token);
    }

    /// <summary>Whether an injected loss takes this tag; closes a finished loss run (records and event).</summary>
    private bool IsLost(in TimeTag tag, CancellationToken token)
    {
        if (_lossInjected) TakeInjectedLoss(tag.TimePs);
        if (_dropRemaining == 0 && !_lossArmed && _runMissed == 0) return false; // the common case: one branch per tag
        bool lost = false;
        if (_dropRemaining > 0)
        {
            _dropRemaining--;
            lost = true;
        }
        else if (_lossArmed && tag.TimePs < _lossUntilPs)
        {
            lost = true;
        }
        else
        {
            _lossArmed = false;
        }
        if (lost)
        {
            if (_runMissed == 0) _runBeginPs = tag.TimePs;
            _runEndPs = tag.TimePs;
            _runMissed++;
            return true;
        }
        CloseLossRun(token);
        return false;
    }

    /// <summary>Moves losses injected by the hooks into the streaming thread's own state; the loss span starts here.</summary>
    private void TakeInjectedLoss(long nowPs)
    {
        lock (StreamGate)
        {
            _lossInjected = false;
            _dropRemaining += _pendingDropTags;
            _pendingDropTags = 0;
            if (_pendingLossPs > 0)
            {
                long from = _lossArmed ? _lossUntilPs : nowPs;
                _lossUntilPs = from + _pendingLossPs;
                _lossArmed = true;
                _pendingLossPs = 0;
            }
        }
    }

    /// <summary>Ends a loss run: OverflowBegin/OverflowEnd in band, then the Overflow event and ItemsLost.</summary>
    private void CloseLossRun(CancellationToken token)
    {
        if (_runMissed == 0) return;
        long missed = _runMissed;
        _runMissed = 0;
        Append(new TimeTag(_runBeginPs, 0, TimeTagKind.OverflowBegin), token);
        Append(new TimeTag(_runEndPs, 0, TimeTagKind.OverflowEnd, (uint)Math.Min(missed, uint.MaxValue)), token);
        lock (DeviceLock) ReportDataLost((ulong)missed, _runBeginPs, _runEndPs);
    }

    private void Append(in TimeTag tag, CancellationToken token)
    {
        _frame[_frameCount++] = tag;
        if (_frameCount == _frame.Length) FlushFrame(token);
    }

    /// <summary>
    /// Writes the pending records as one TagData frame and flushes. Waits while the device cannot send (stream stopped,
    /// unplugged, hung): the physics pauses with the stream and nothing is lost unless injected.
    /// </summary>
    private void FlushFrame(CancellationToken token)
    {
        if (_frameCount == 0) return;
        while (true)
        {
            token.ThrowIfCancellationRequested();
            lock (OutputLock)
            {
                bool running;
                running = IsStreaming;
                if (running && OutputOpen)
                {
                    uint sequence;
                    lock (StreamGate) sequence = _sequence++;
                    int length = _frameCount * TagRecordCodec.RecordLength;
                    Span<byte> payload = BeginOutputFrame(new FrameHeader(DeviceClass.TimeTagger, MessageType.TaggerTagData, FrameFlags.Stream, sequence, 0), length);
                    TagRecordCodec.Write(_frame.AsSpan(0, _frameCount), payload);
                    EndOutputFrame();
                    FlushOutput();
                    lock (StreamGate)
                    {
                        _tagsSent += _frameCount;
                        _framesSent++;
                    }
                    _frameCount = 0;
                    return;
                }
            }
            lock (StreamGate)
            {
                token.ThrowIfCancellationRequested();
                Monitor.Wait(StreamGate, TimeSpan.FromMilliseconds(20));
            }
        }
    }

    /// <summary>A new physics source: nothing of the previous one carries over.</summary>
    private void ForgetStream()
    {
        _reorder.Clear();
        _frameCount = 0;
        _lastSourcePs = long.MinValue;
        Array.Fill(_nextTestPs, long.MinValue);
    }

    private void EndOfPhysics()
    {
        _source = null;
        EndStreamByDevice();
    }
}
