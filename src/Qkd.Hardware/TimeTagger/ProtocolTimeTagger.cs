using Qkd.Core.Rings;
using Qkd.Core.TimeTags;
using Qkd.Hardware.Devices;
using Qkd.Protocol;
using Qkd.Protocol.Messages;
using Qkd.Protocol.Transport;

namespace Qkd.Hardware.TimeTagger;

/// <summary>
/// <see cref="ITimeTagger"/> over the wire protocol (firmware-protocols/time-tagger.md). The connection's reader thread
/// is the tagger's acquisition thread: it decodes TagData frames straight into an <see cref="SpscRing{T}"/>, the one
/// ring between the tagger and clock recovery, which the consumer drains through <see cref="Read"/> (the acquisition
/// side reads this source on its own thread, as an <see cref="IBufferedTimeTagSource"/>, instead of copying it into a
/// second ring). When the ring is full the reader waits (back-pressure, the default), so the transport's flow control
/// pushes back on the device (whose overflow is then reported by the device itself, in band); under drop-newest it
/// drops the frame instead, counts its tags in <see cref="Dropped"/> and marks the gap in the tag stream.
/// </summary>
public sealed class ProtocolTimeTagger : ProtocolDevice, ITimeTagger
{
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(20);

    // A frame's tags are decoded from FrameTags on; the slots before them take the markers of a gap the frame closes
    // (drop-newest writes the markers and the tags into the ring in one claim).
    private const int FrameTags = 2;

    private readonly SpscRing<TimeTag> _ring;
    private readonly bool _dropNewest;
    private readonly TimeTag[] _frame = new TimeTag[FrameTags + TagRecordCodec.MaxRecordsPerFrame];
    private readonly TagFrameReceiver _receiver;
    private readonly CancellationTokenSource _disposing = new();
    // Cancelled when the host stops the stream (or disposes): a reader thread waiting for ring space then discards,
    // and counts, what nobody will read, instead of holding the connection up.
    private CancellationTokenSource _release = new();
    private uint _expectedSequence;
    private long _lastTagTime = long.MinValue;
    private bool _gapOpen;
    // Drop-newest: the OverflowBegin of the open gap is still to be written (with the first frame that fits).
    private bool _gapBeginPending;
    private long _droppedByRing;
    private volatile bool _streaming;
    private volatile bool _endOfStream;
    private volatile bool _disconnectPending;
    private volatile bool _stopping;
    // Set when a StartStream is sent to a device that may already be streaming: its next frame numbered 0 starts the new numbering.
    private volatile bool _restartPending;
    // Between a disconnect and the restarted stream's StartStream reply, a "Running cleared" status change describes the
    // old connection's stream (a device may report it once it is plugged back in): it is not the end of our stream.
    private volatile bool _ignoreStopEvents;

    /// <param name="ringCapacity">Tags buffered between the reader thread and the consumer (clock recovery), a power of two.</param>
    /// <param name="ringOverflowPolicy">When the ring is full: wait (back-pressure on the device, the default) or drop
    /// the frame (counted in <see cref="Dropped"/>, the gap marked in the stream); drop-newest needs room for a whole
    /// frame and its gap markers (a capacity of at least 8192).</param>
    public ProtocolTimeTagger(IDeviceConnector connector, DeviceConnectionOptions? options = null, int ringCapacity = 1 << 20,
        OverflowPolicy ringOverflowPolicy = OverflowPolicy.BackPressure)
        : base(connector, DeviceClass.TimeTagger, options)
    {
        if (ringOverflowPolicy == OverflowPolicy.DropNewest && ringCapacity < FrameTags + TagRecordCodec.MaxRecordsPerFrame)
            throw new ArgumentOutOfRangeException(nameof(ringCapacity), ringCapacity,
                $"Drop-newest delivers whole frames: the ring must hold at least {FrameTags + TagRecordCodec.MaxRecordsPerFrame} tags (one full TagData frame and its gap markers).");
        _ring = new SpscRing<TimeTag>(ringCapacity, ringOverflowPolicy, new BlockingWaitStrategy());
        _dropNewest = ringOverflowPolicy == OverflowPolicy.DropNewest;
        _receiver = new TagFrameReceiver(this);
        EventReceived += OnEvent;
    }

    public int Channels => Identity?.ChannelCount ?? throw new InvalidOperationException($"{Name}: connect first.");

    public TimeTaggerStreamCounters StreamCounters { get; } = new();

    /// <summary>Tags waiting in the driver's ring.</summary>
    public int Buffered => _ring.Fill;

    public int BufferCapacity => _ring.Capacity;

    /// <summary>
    /// Tags received but never put in the ring: frames dropped by a full ring under drop-newest, plus the tags discarded
    /// because the stream was stopped (or the driver disposed) while the reader waited for ring space
    /// (<see cref="TimeTaggerStreamCounters.TagsDiscarded"/>).
    /// </summary>
    public long Dropped => Interlocked.Read(ref _droppedByRing) + Interlocked.Read(ref StreamCounters.TagsDiscarded);

    public override IReadOnlyDictionary<string, long> Counters
    {
        get
        {
            var counters = new Dictionary<string, long>(base.Counters);
            foreach (var (k, v) in StreamCounters.ToDictionary()) counters["stream." + k] = v;
            return counters;
        }
    }

    public void SetTriggerLevelVolts(int channel, double volts) =>
        SetParameter(ParameterId.TaggerTriggerLevelMicrovolts, Channel(channel), checked((long)Math.Round(volts * 1e6)));

    public void SetInputDelayPs(int channel, long delayPs) => SetParameter(ParameterId.TaggerInputDelayPs, Channel(channel), delayPs);

    public long GetInputDelayPs(int channel) => GetParameter(ParameterId.TaggerInputDelayPs, Channel(channel));

    public void SetSyncChannel(int channel) => SetParameter(ParameterId.TaggerSyncChannel, 0, Channel(channel));

    public void SetChannelEnabled(int channel, bool enabled) => SetParameter(ParameterId.TaggerChannelEnabled, Channel(channel), enabled ? 1 : 0);

    public void SetTestSignal(int channel, bool enabled) => SetParameter(ParameterId.TaggerTestSignalEnabled, Channel(channel), enabled ? 1 : 0);

    public void SetTestSignalPeriodPs(long periodPs) => SetParameter(ParameterId.TaggerTestSignalPeriodPs, 0, periodPs);

    public void StartStream()
    {
        if (_streaming) throw new InvalidOperationException($"{Name}: already streaming.");
        _expectedSequence = 0;
        _endOfStream = false;
        _stopping = false;
        _release = CancellationTokenSource.CreateLinkedTokenSource(_disposing.Token);
        _streaming = true;
        try
        {
            Connection.Request(MessageType.TaggerStartStream, default, "start streaming", idempotent: false);
        }
        catch
        {
            _streaming = false;
            throw;
        }
    }

    public void StopStream()
    {
        if (!_streaming) return;
        _stopping = true;
        _release.Cancel();
        try
        {
            // The reply comes after the last TagData frame, so once it is here every tag is in the ring.
            Connection.Request(MessageType.TaggerStopStream, default, "stop streaming", idempotent: false, timeout: StopTimeout);
        }
        finally
        {
            _streaming = false;
            _endOfStream = true;
        }
    }

    public int Read(Span<TimeTag> destination, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            int n = _ring.TryRead(destination);
            if (n > 0) return n;
            if (_endOfStream)
            {
                n = _ring.TryRead(destination);
                return n;
            }
            if (_disconnectPending)
            {
                // Everything received before the device went away has been handed out; now say so, once.
                _disconnectPending = false;
                throw new TimeTagSourceDisconnectedException(Name, "the device went away; reading again reconnects");
            }
            if (State == ConnectionState.Disconnected)
            {
                TryReconnect();
                continue;
            }
            cancellationToken.ThrowIfCancellationRequested();
            _ring.WaitToRead(PollInterval, cancellationToken);
        }
    }

    protected override void Dispose(bool disposing)
    {
        // A reader thread waiting for ring space must not keep the connection from closing.
        if (disposing) _disposing.Cancel();
        base.Dispose(disposing);
    }

    protected override IStreamReceiver? StreamReceiver => _receiver;

    protected override void OnDisconnected(DeviceDisconnectedException cause)
    {
        if (!_streaming) return;
        _ignoreStopEvents = true;
        OpenGap();
        _disconnectPending = true;
    }

    protected override void OnReconnected()
    {
        if (!_streaming || _stopping) return;
        _restartPending = true;
        Connection.Request(MessageType.TaggerStartStream, default, "restart streaming after reconnect", idempotent: false);
        _ignoreStopEvents = false;
    }

    private void TryReconnect()
    {
        try
        {
            Reconnect();
        }
        catch (DeviceException e)
        {
            throw new TimeTagSourceDisconnectedException(Name, $"still disconnected: {e.Cause}", e);
        }
    }

    private void OnStreamFrame(in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        if (header.Type != MessageType.TaggerTagData)
        {
            Interlocked.Increment(ref StreamCounters.FramesInvalid);
            return;
        }
        if (_restartPending && header.Sequence == 0)
        {
            // The restarted stream: numbering begins again (frames before it continued the old numbering).
            _restartPending = false;
            _expectedSequence = 0;
        }
        if (header.Sequence < _expectedSequence)
        {
            Interlocked.Increment(ref StreamCounters.FramesDuplicated);
            return;
        }
        if (header.Sequence > _expectedSequence)
        {
            Interlocked.Add(ref StreamCounters.FramesLost, header.Sequence - _expectedSequence);
            OpenGap();
        }
        _expectedSequence = header.Sequence + 1;
        int count = TagRecordCodec.Read(payload, _frame.AsSpan(FrameTags), out _);
        if (count < 0)
        {
            Interlocked.Increment(ref StreamCounters.FramesInvalid);
            OpenGap();
            return;
        }
        if (count == 0) return;
        if (_dropNewest) WriteOrDrop(count);
        else WriteWaiting(count);
        Interlocked.Add(ref StreamCounters.Tags, count);
        Interlocked.Increment(ref StreamCounters.Frames);
    }

    /// <summary>Back-pressure: waits for ring space; only a stopped stream (or disposal) abandons the wait, and counts what it discards.</summary>
    private void WriteWaiting(int count)
    {
        var tags = _frame.AsSpan(FrameTags, count);
        if (_gapOpen)
        {
            // The first tag after a gap closes it; the overflow pair brackets the time nothing was seen.
            _gapOpen = false;
            _ring.Write(new TimeTag(tags[0].TimePs, 0, TimeTagKind.OverflowEnd), _release.Token);
        }
        int written = _ring.Write(tags, _release.Token);
        if (written < count) Interlocked.Add(ref StreamCounters.TagsDiscarded, count - written);
        _lastTagTime = tags[^1].TimePs;
    }

    /// <summary>
    /// Drop-newest: the frame goes into the ring whole, behind the markers of the gap it closes, or, when they do not all
    /// fit, is dropped whole: its tags are counted in <see cref="Dropped"/> and a gap is opened, so clock recovery learns
    /// that the time they covered was not silence.
    /// </summary>
    private void WriteOrDrop(int count)
    {
        int start = FrameTags;
        if (_gapOpen)
        {
            _frame[--start] = new TimeTag(_frame[FrameTags].TimePs, 0, TimeTagKind.OverflowEnd);
            if (_gapBeginPending) _frame[--start] = new TimeTag(GapBeginPs, 0, TimeTagKind.OverflowBegin);
        }
        int length = FrameTags + count - start;
        var slots = _ring.Claim(length);
        if (slots.Length < length)
        {
            Interlocked.Add(ref _droppedByRing, count);
            OpenGap();
            return;
        }
        slots.CopyFrom(_frame.AsSpan(start, length));
        _ring.Publish(length);
        _gapOpen = false;
        _gapBeginPending = false;
        _lastTagTime = _frame[FrameTags + count - 1].TimePs;
    }

    private long GapBeginPs => _lastTagTime == long.MinValue ? 0 : _lastTagTime;

    private void OpenGap()
    {
        if (_gapOpen) return;
        _gapOpen = true;
        Interlocked.Increment(ref StreamCounters.GapsMarked);
        // Drop-newest never waits: the OverflowBegin goes in with the first frame that fits.
        if (_dropNewest) _gapBeginPending = true;
        else _ring.Write(new TimeTag(GapBeginPs, 0, TimeTagKind.OverflowBegin), _release.Token);
    }

    private void OnEvent(DeviceEvent e)
    {
        try
        {
            switch (e.Type)
            {
                case MessageType.Overflow:
                    var overflow = OverflowReport.Read(e.Payload);
                    Interlocked.Increment(ref StreamCounters.OverflowEvents);
                    Interlocked.Add(ref StreamCounters.OverflowTagsLost, (long)overflow.ItemsLost);
                    break;
                case MessageType.StatusChanged:
                    var change = StatusChange.Read(e.Payload);
                    // The device stopped by itself (its source ended): everything it sent is already in the ring,
                    // because events and tags share the connection's one ordered reader.
                    if (_streaming && !_stopping && !_ignoreStopEvents && (change.Before & StatusFlags.Running) != 0 && (change.After & StatusFlags.Running) == 0)
                    {
                        _streaming = false;
                        _endOfStream = true;
                    }
                    break;
            }
        }
        catch (PayloadFormatException)
        {
            Interlocked.Increment(ref StreamCounters.FramesInvalid);
        }
    }

    private byte Channel(int channel)
    {
        if (channel < 0 || channel >= Channels)
            throw new ArgumentOutOfRangeException(nameof(channel), channel, $"{Name} has inputs 0..{Channels - 1}.");
        return (byte)channel;
    }

    private sealed class TagFrameReceiver(ProtocolTimeTagger owner) : IStreamReceiver
    {
        public void OnStreamFrame(in FrameHeader header, ReadOnlySpan<byte> payload) => owner.OnStreamFrame(in header, payload);
    }
}
