using System.Buffers.Binary;
using Qkd.Protocol;
using Qkd.Protocol.Messages;
using Qkd.Protocol.Transport;

namespace Qkd.Emulation.Firmware;

/// <summary>
/// One emulated device behind an <see cref="IFrameTransport"/> (the device end of an in-process duplex stream, a
/// pseudo-terminal master, ...), speaking wire protocol v1 exactly as firmware-protocols/ and the issue-4 brief say:
/// every request gets exactly one response of the same class, type and sequence, in order; Identify and Ping are
/// answered whatever the class byte; frames that fail decoding are counted (GetStatus FramesRejected) and never
/// answered. The three device classes derive from it and add their parameters, messages and physics.
/// </summary>
/// <remarks>
/// <para>Threads. A receive thread per attached transport decodes frames and dispatches requests in order under the
/// device lock; everything the device sends goes through one <see cref="FrameWriter"/> under the output lock, and the
/// receive thread flushes once per transport read (one write per batch, not per frame: a serial write costs about a
/// millisecond). A streaming device (the tagger) writes from its own thread through the same lock. Lock order is
/// device lock, then output lock; nothing takes the device lock while holding the output lock.</para>
/// <para>Events. StatusChanged, Overflow and InterlockChanged carry the device's event counter (from 0, kept across
/// unplug/plug). Events caused by a request are sent after its response.</para>
/// <para>Fault injection (tests, the HIL suite): <see cref="Unplug"/>/<see cref="Plug"/> (the device vanishes and
/// comes back like a USB re-enumeration; its state and physics are kept), <see cref="CorruptNextFrames"/> and
/// <see cref="SetLineBitErrorRate"/> (CRC errors on the line), <see cref="StopAnswering"/> (a hung device), and
/// <see cref="OpenInterlock"/>/<see cref="CloseInterlock"/>.</para>
/// </remarks>
public abstract class FirmwareHost : IDisposable
{
    private const int ReceiveBufferLength = ProtocolConstants.MaxFrameLength;
    private const int StreamBatchBytes = 256 * 1024;

    private readonly object _outputLock = new();
    private readonly object _plugLock = new();
    private readonly Timer _tick;
    private readonly List<(MessageType Type, byte[] Payload)> _deferredEvents = new();
    private Attachment? _attachment;
    private volatile bool _answering = true;
    private volatile bool _disposed;
    private int _dispatchThread = -1;
    private uint _eventSequence;
    private long _framesReceived;
    private readonly List<IFrameDecoder> _pastDecoders = new();
    private long _framesSentBefore;
    private long _framesCorruptedBefore;
    private long _framesIgnored;
    private long _itemsLost;
    private long _streamFramesMissed;
    private StatusFlags _flags = StatusFlags.Ready;

    /// <param name="deviceClass">The class this firmware answers as.</param>
    /// <param name="channelCount">Heads, intensity levels or inputs (the ChannelCount parameter).</param>
    /// <param name="serialNumber">The serial number Identify reports (printable ASCII, at most 64 characters).</param>
    /// <param name="clock">Device time; null follows the wall clock.</param>
    protected FirmwareHost(DeviceClass deviceClass, int channelCount, string serialNumber, IDeviceClock? clock)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(serialNumber);
        DeviceClass = deviceClass;
        SerialNumber = serialNumber;
        Clock = clock ?? new WallDeviceClock();
        Parameters = new FirmwareParameterStore(deviceClass, channelCount);
        // Derived state (a cooler reaching its set point) changes without a request; look at it a few times a second.
        _tick = new Timer(_ => Poll(), null, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(100));
    }

    public DeviceClass DeviceClass { get; }

    public string SerialNumber { get; }

    public IDeviceClock Clock { get; }

    /// <summary>The parameter values in force; read and written under <see cref="DeviceLock"/>.</summary>
    protected FirmwareParameterStore Parameters { get; }

    /// <summary>Guards the device state (parameters, flags, class state). Taken before the output lock, never after.</summary>
    protected object DeviceLock { get; } = new();

    /// <summary>Guards the frame writer and the transport; a streaming thread holds it while it writes stream frames.</summary>
    protected object OutputLock => _outputLock;

    public abstract string Model { get; }

    public abstract ushort ProductId { get; }

    public Version FirmwareVersion { get; } = new(1, 0, 0);

    public int ChannelCount => Parameters.ChannelCount;

    /// <summary>What the device answers to Identify.</summary>
    public DeviceIdentity Identity => new(DeviceClass, ProtocolConstants.Version, 0x1209, ProductId, FirmwareVersion,
        (byte)ChannelCount, SerialNumber, Model);

    /// <summary>Whether a transport is attached (plugged in).</summary>
    public bool IsAttached => Volatile.Read(ref _attachment) is not null;

    /// <summary>Whether the device answers at all (false after <see cref="StopAnswering"/>).</summary>
    public bool IsAnswering => _answering;

    /// <summary>The current status flags.</summary>
    public StatusFlags Flags
    {
        get { lock (DeviceLock) return _flags; }
    }

    /// <summary>Frames decoded successfully from the host (all attachments).</summary>
    public long FramesReceived => Interlocked.Read(ref _framesReceived);

    /// <summary>Frames from the host that failed decoding (CRC, encoding, length...), all attachments; never answered.</summary>
    public long FramesRejected
    {
        get
        {
            // Decoder counters are written by their receive threads only; summing every attachment's keeps late rejects.
            lock (_pastDecoders)
            {
                long total = _attachment?.Decoder.Counters.FramesRejected ?? 0;
                foreach (IFrameDecoder decoder in _pastDecoders) total += decoder.Counters.FramesRejected;
                return total;
            }
        }
    }

    /// <summary>Frames written to the line (responses, events, stream frames), all attachments.</summary>
    public long FramesSent
    {
        get
        {
            lock (_outputLock) return _framesSentBefore + (_attachment?.Writer.FramesWritten ?? 0);
        }
    }

    /// <summary>Valid frames the device did not act on: responses/events from the host, stream frames it does not take.</summary>
    public long FramesIgnored => Interlocked.Read(ref _framesIgnored);

    /// <summary>Items lost since power-on (tags not streamed, pulses sent as vacuum).</summary>
    public long ItemsLost => Interlocked.Read(ref _itemsLost);

    /// <summary>Host-to-device stream frames missing from the sequence.</summary>
    public long StreamFramesMissed => Interlocked.Read(ref _streamFramesMissed);

    /// <summary>Frames the line-fault injector corrupted (all attachments).</summary>
    public long FramesCorrupted
    {
        get
        {
            lock (_outputLock) return _framesCorruptedBefore + (_attachment?.Transport.FramesCorrupted ?? 0);
        }
    }

    /// <summary>Events sent so far (the next event's sequence number).</summary>
    public uint EventsSent
    {
        get { lock (_outputLock) return _eventSequence; }
    }

    // ---- Attachment and faults -----------------------------------------------------------------------------------

    /// <summary>
    /// Attaches the device to a transport (power-on, or re-enumeration after <see cref="Unplug"/>): a new receive thread,
    /// a fresh decoder and writer. Device state, settings, counters and physics are kept.
    /// </summary>
    /// <exception cref="InvalidOperationException">A transport is already attached.</exception>
    public void Plug(IFrameTransport transport)
    {
        ArgumentNullException.ThrowIfNull(transport);
        ObjectDisposedException.ThrowIf(_disposed, this);
        lock (_plugLock)
        {
            if (_attachment is not null)
                throw new InvalidOperationException($"{Describe()}: already attached to {_attachment.Transport.Description}; unplug first.");
            var line = new LineFaultTransport(transport);
            int batch = transport.Framing == FramingKind.Packet
                ? Math.Min(transport.MaxWriteLength, 64 * 1024)
                : StreamBatchBytes;
            var attachment = new Attachment(line, IFrameDecoder.For(transport.Framing), new FrameWriter(transport.Framing, Math.Max(batch, ProtocolConstants.MaxFrameLength)));
            lock (_outputLock) Volatile.Write(ref _attachment, attachment);
            attachment.Thread = new Thread(() => ReceiveLoop(attachment))
            {
                IsBackground = true,
                Name = $"{Describe()} receive",
            };
            attachment.Thread.Start();
        }
        OnPlugged();
    }

    /// <summary>
    /// The device vanishes: its transport is closed (the host sees end of stream or a disconnect) and nothing more is
    /// received or sent until <see cref="Plug"/>. The device keeps its state and its physics keeps running.
    /// </summary>
    public void Unplug()
    {
        Attachment? attachment;
        lock (_plugLock)
        {
            attachment = _attachment;
            if (attachment is null) return;
            Detach(attachment);
        }
        attachment.Transport.Dispose();
        if (attachment.Thread is { } thread && thread.ManagedThreadId != Environment.CurrentManagedThreadId)
            thread.Join(TimeSpan.FromSeconds(10));
        OnUnplugged();
    }

    /// <summary>Corrupts the next <paramref name="count"/> frames the device sends, one byte each, so each fails its CRC.</summary>
    public void CorruptNextFrames(int count) => CurrentLine().CorruptNextFrames(count);

    /// <summary>Random bit errors at <paramref name="bitErrorRate"/> on everything the device sends (seeded).</summary>
    public void SetLineBitErrorRate(double bitErrorRate, ulong seed) => CurrentLine().SetBitErrorRate(bitErrorRate, seed);

    /// <summary>A hung device: it keeps reading the line but never answers, sends no events and no stream frames.</summary>
    public void StopAnswering() => _answering = false;

    /// <summary>Undoes <see cref="StopAnswering"/>; requests received meanwhile stay unanswered.</summary>
    public void ResumeAnswering() => _answering = true;

    /// <summary>Opens the safety interlock: InterlockChanged and StatusChanged events; emission and bias go off.</summary>
    public void OpenInterlock() => SetInterlock(true);

    /// <summary>Closes the safety interlock (emission and bias stay off until the host turns them on again).</summary>
    public void CloseInterlock() => SetInterlock(false);

    public bool InterlockOpen
    {
        get { lock (DeviceLock) return (_flags & StatusFlags.InterlockOpen) != 0; }
    }

    /// <summary>Re-evaluates state that changes with device time (e.g. the cooler), sending StatusChanged if flags moved.</summary>
    public void Poll()
    {
        if (_disposed) return;
        lock (DeviceLock) UpdateDerivedState();
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _tick.Dispose();
        OnDisposing();
        Unplug();
        GC.SuppressFinalize(this);
    }

    // ---- For the device classes ----------------------------------------------------------------------------------

    /// <summary>"time tagger TT-EMU-0001": for thread names and texts.</summary>
    protected string Describe() => $"emulated {DeviceClass.Describe()} {SerialNumber}";

    /// <summary>The class's own requests (type 0x20 and up); null when the type is unknown (UnknownMessage).</summary>
    protected abstract FirmwareReply? HandleClassRequest(in FrameHeader header, ReadOnlySpan<byte> payload);

    /// <summary>
    /// A host-to-device stream frame of this class, on the receive thread, outside the device lock (it may block to
    /// push back on the host). Pending output has been flushed before. Default: ignored and counted.
    /// </summary>
    protected virtual void HandleStreamFrame(in FrameHeader header, ReadOnlySpan<byte> payload) => Interlocked.Increment(ref _framesIgnored);

    /// <summary>The value GetParameter reports (measured values override the store). Under the device lock.</summary>
    protected virtual long ReadParameter(ParameterDefinition definition, byte channel) => Parameters.Get(definition.Id, channel);

    /// <summary>
    /// A checked SetParameter (known, writable, channel and value in range) about to be applied: return a nack to refuse
    /// it (e.g. bias while the interlock is open), or null to store it. Under the device lock.
    /// </summary>
    protected virtual FirmwareReply? ValidateSet(ParameterDefinition definition, byte channel, long value) => null;

    /// <summary>After a parameter was stored. Under the device lock.</summary>
    protected virtual void OnParameterChanged(ParameterDefinition definition, byte channel, long value)
    {
    }

    /// <summary>After ResetSettings restored the defaults. Under the device lock.</summary>
    protected virtual void OnSettingsReset()
    {
    }

    /// <summary>The interlock changed (flags and InterlockChanged already sent). Under the device lock.</summary>
    protected virtual void OnInterlockChanged(bool open)
    {
    }

    /// <summary>Recomputes time-dependent flags. Under the device lock.</summary>
    protected virtual void UpdateDerivedState()
    {
    }

    protected virtual void OnPlugged()
    {
    }

    protected virtual void OnUnplugged()
    {
    }

    protected virtual void OnDisposing()
    {
    }

    /// <summary>Flags at power-on, before anyone listens (no event). For constructors.</summary>
    protected void SetPowerOnFlags(StatusFlags flags) => _flags = flags;

    /// <summary>Sets and clears flags; a change is reported with StatusChanged. Under the device lock.</summary>
    protected void ChangeFlags(StatusFlags set, StatusFlags clear = StatusFlags.None)
    {
        StatusFlags before = _flags;
        StatusFlags after = (before | set) & ~clear;
        if (after == before) return;
        _flags = after;
        SendEvent(MessageType.StatusChanged, new StatusChange(before, after).ToPayload());
    }

    /// <summary>
    /// Data lost: counted in ItemsLost, DataLost set (StatusChanged if it was clear) and an Overflow event with the
    /// device-time span. Under the device lock.
    /// </summary>
    protected void ReportDataLost(ulong items, long beginPs, long endPs)
    {
        Interlocked.Add(ref _itemsLost, (long)items);
        ChangeFlags(StatusFlags.DataLost);
        SendEvent(MessageType.Overflow, new OverflowReport(items, beginPs, endPs).ToPayload());
    }

    protected void CountStreamFramesMissed(long frames) => Interlocked.Add(ref _streamFramesMissed, frames);

    protected void CountIgnoredFrame() => Interlocked.Increment(ref _framesIgnored);

    /// <summary>
    /// Sends an event (sequence = the event counter). On the receive thread while a request is dispatched, the event
    /// waits until the response is written; otherwise it is written and flushed at once. Dropped while unplugged or hung.
    /// </summary>
    protected void SendEvent(MessageType type, byte[] payload)
    {
        if (_dispatchThread == Environment.CurrentManagedThreadId)
        {
            _deferredEvents.Add((type, payload));
            return;
        }
        lock (_outputLock)
        {
            AppendEvent(type, payload);
            FlushOutput();
        }
    }

    /// <summary>Whether output can be written now (attached and answering). Call under <see cref="OutputLock"/>.</summary>
    protected bool OutputOpen => _attachment is not null && _answering;

    /// <summary>
    /// Starts a frame in the output batch and returns its payload span (write the payload in place, then
    /// <see cref="EndOutputFrame"/>). Call under <see cref="OutputLock"/> when <see cref="OutputOpen"/>.
    /// </summary>
    protected Span<byte> BeginOutputFrame(FrameHeader header, int payloadLength)
    {
        Attachment attachment = _attachment ?? throw new InvalidOperationException($"{Describe()} is unplugged.");
        try
        {
            return attachment.Writer.BeginFrame(attachment.Transport, header, payloadLength);
        }
        catch (Exception e) when (IsLineGone(e))
        {
            // The batch before this frame could not be written: the host end is gone. The frame still goes into the
            // (now empty) buffer and is dropped with the attachment.
            LineGone(attachment);
            return attachment.Writer.BeginFrame(attachment.Transport, header, payloadLength);
        }
    }

    protected void EndOutputFrame() => _attachment?.Writer.EndFrame();

    /// <summary>Writes the output batch to the line. Call under <see cref="OutputLock"/>.</summary>
    protected void FlushOutput()
    {
        Attachment? attachment = _attachment;
        if (attachment is null) return;
        try
        {
            attachment.Writer.Flush(attachment.Transport);
        }
        catch (Exception e) when (IsLineGone(e))
        {
            LineGone(attachment);
        }
    }

    // ---- Receive path ----------------------------------------------------------------------------------------------

    private void ReceiveLoop(Attachment attachment)
    {
        var buffer = new byte[ReceiveBufferLength];
        var handler = new FrameHandler(this);
        while (!attachment.Closed)
        {
            int n;
            try
            {
                n = attachment.Transport.Read(buffer);
            }
            catch (Exception e) when (IsLineGone(e))
            {
                break;
            }
            if (n == 0) break;
            attachment.Decoder.Push(buffer.AsSpan(0, n), handler);
            lock (_outputLock) FlushOutput();
        }
        // The host closed its end (or Unplug closed ours): the device is no longer attached.
        bool wasCurrent;
        lock (_plugLock)
        {
            wasCurrent = ReferenceEquals(_attachment, attachment);
            if (wasCurrent) Detach(attachment);
        }
        if (wasCurrent)
        {
            attachment.Transport.Dispose();
            OnUnplugged();
        }
    }

    private void OnFrame(in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        Interlocked.Increment(ref _framesReceived);
        if (!_answering) return; // hung: the bytes arrive, nothing happens
        if (header.IsStream)
        {
            if (header.DeviceClass != DeviceClass)
            {
                CountIgnoredFrame();
                return;
            }
            lock (_outputLock) FlushOutput(); // answers before a frame that may block must not wait behind it
            HandleStreamFrame(header, payload);
            return;
        }
        if (!header.IsRequest)
        {
            CountIgnoredFrame(); // responses and events travel device to host only
            return;
        }
        FirmwareReply reply;
        lock (DeviceLock)
        {
            _dispatchThread = Environment.CurrentManagedThreadId;
            try
            {
                UpdateDerivedState();
                reply = Dispatch(header, payload);
            }
            finally
            {
                _dispatchThread = -1;
            }
            lock (_outputLock)
            {
                if (OutputOpen && _answering)
                {
                    var flags = reply.IsNack ? FrameFlags.Response | FrameFlags.Nack : FrameFlags.Response;
                    Span<byte> destination = BeginOutputFrame(new FrameHeader(header.DeviceClass, header.Type, flags, header.Sequence, 0), reply.Payload.Length);
                    reply.Payload.CopyTo(destination);
                    EndOutputFrame();
                }
                foreach ((MessageType type, byte[] eventPayload) in _deferredEvents) AppendEvent(type, eventPayload);
                _deferredEvents.Clear();
            }
        }
    }

    private FirmwareReply Dispatch(in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        bool common = header.Type is MessageType.Identify or MessageType.Ping;
        if (header.DeviceClass != DeviceClass && !common)
            return FirmwareReply.Nack(ErrorCode.WrongDeviceClass,
                $"device class {(byte)header.DeviceClass} ({header.DeviceClass.Describe()}) addressed; this is a {DeviceClass.Describe()} (class {(byte)DeviceClass})");
        switch (header.Type)
        {
            case MessageType.Identify:
                return payload.IsEmpty ? FirmwareReply.Ok(Identity.ToPayload()) : FirmwareReply.WrongLength(DeviceClass, header.Type, payload.Length, "0");
            case MessageType.Ping:
                return payload.Length <= 64 ? FirmwareReply.Ok(payload.ToArray()) : FirmwareReply.WrongLength(DeviceClass, header.Type, payload.Length, "0..64");
            case MessageType.GetStatus:
                return payload.IsEmpty ? GetStatus() : FirmwareReply.WrongLength(DeviceClass, header.Type, payload.Length, "0");
            case MessageType.GetParameter:
                return payload.Length == ParameterValue.AddressLength
                    ? GetParameter(payload)
                    : FirmwareReply.WrongLength(DeviceClass, header.Type, payload.Length, $"{ParameterValue.AddressLength} (id u16, channel u8)");
            case MessageType.SetParameter:
                return payload.Length == ParameterValue.Length
                    ? SetParameter(ParameterValue.Read(payload))
                    : FirmwareReply.WrongLength(DeviceClass, header.Type, payload.Length, $"{ParameterValue.Length} (id u16, channel u8, value i64)");
            case MessageType.ResetSettings:
                if (!payload.IsEmpty) return FirmwareReply.WrongLength(DeviceClass, header.Type, payload.Length, "0");
                Parameters.ResetWritable();
                OnSettingsReset();
                return FirmwareReply.Empty;
        }
        return HandleClassRequest(header, payload)
            ?? FirmwareReply.Nack(ErrorCode.UnknownMessage, $"message type 0x{(byte)header.Type:X2} is unknown to the {DeviceClass.Describe()}");
    }

    private FirmwareReply GetStatus()
    {
        StatusFlags flags = _flags;
        var status = new DeviceStatus(flags, (ulong)(Clock.NowPs / 1_000_000_000), (ulong)FramesReceived, (ulong)FramesRejected,
            (ulong)FramesSent, (ulong)ItemsLost, (ulong)StreamFramesMissed);
        ChangeFlags(StatusFlags.None, StatusFlags.DataLost); // DataLost clears on read (the event follows the response)
        return FirmwareReply.Ok(status.ToPayload());
    }

    private FirmwareReply GetParameter(ReadOnlySpan<byte> payload)
    {
        (ParameterId id, byte channel) = ParameterValue.ReadAddress(payload);
        ParameterDefinition? definition = Parameters.Find(id);
        if (definition is null) return UnknownParameter(id);
        if (Parameters.CheckChannel(definition, channel) is { } problem) return FirmwareReply.Nack(ErrorCode.OutOfRange, problem);
        return FirmwareReply.Ok(new ParameterValue(id, channel, ReadParameter(definition, channel)).ToPayload());
    }

    private FirmwareReply SetParameter(ParameterValue request)
    {
        ParameterDefinition? definition = Parameters.Find(request.Id);
        if (definition is null) return UnknownParameter(request.Id);
        if (!definition.Writable)
            return FirmwareReply.Nack(ErrorCode.ReadOnlyParameter, $"{definition.Name} (0x{(ushort)request.Id:X4}) is read-only; {request.Value} {definition.Unit} not written");
        if (Parameters.CheckChannel(definition, request.Channel) is { } problem) return FirmwareReply.Nack(ErrorCode.OutOfRange, problem);
        if (!definition.Contains(request.Value))
            return FirmwareReply.Nack(ErrorCode.OutOfRange, definition.OutOfRangeMessage(request.Value, request.Channel));
        if (ValidateSet(definition, request.Channel, request.Value) is { } refusal) return refusal;
        Parameters.Set(request.Id, request.Channel, request.Value);
        OnParameterChanged(definition, request.Channel, request.Value);
        return FirmwareReply.Ok(new ParameterValue(request.Id, request.Channel, ReadParameter(definition, request.Channel)).ToPayload());
    }

    private FirmwareReply UnknownParameter(ParameterId id) =>
        FirmwareReply.Nack(ErrorCode.UnknownParameter, $"parameter 0x{(ushort)id:X4} is not a {DeviceClass.Describe()} parameter");

    private void SetInterlock(bool open)
    {
        lock (DeviceLock)
        {
            if (((_flags & StatusFlags.InterlockOpen) != 0) == open) return;
            SendEvent(MessageType.InterlockChanged, new InterlockChange(open).ToPayload());
            if (open) ChangeFlags(StatusFlags.InterlockOpen);
            else ChangeFlags(StatusFlags.None, StatusFlags.InterlockOpen);
            OnInterlockChanged(open);
        }
    }

    /// <summary>Under the output lock.</summary>
    private void AppendEvent(MessageType type, byte[] payload)
    {
        uint sequence = _eventSequence++; // the counter moves even when the event is lost (unplugged): the host sees the gap
        if (!OutputOpen) return;
        Span<byte> destination = BeginOutputFrame(new FrameHeader(DeviceClass, type, FrameFlags.Event, sequence, 0), payload.Length);
        payload.CopyTo(destination);
        EndOutputFrame();
    }

    private LineFaultTransport CurrentLine() =>
        Volatile.Read(ref _attachment)?.Transport ?? throw new InvalidOperationException($"{Describe()} is unplugged: no line to inject faults on.");

    private static bool IsLineGone(Exception e) => e is DeviceDisconnectedException or IOException or ObjectDisposedException;

    /// <summary>The host end vanished under a write: behave as unplugged.</summary>
    private void LineGone(Attachment attachment)
    {
        attachment.Writer.Clear();
        // Under the output lock already; the plug lock is not taken here (Unplug holds it while it takes the output lock).
        if (ReferenceEquals(_attachment, attachment)) Detach(attachment);
    }

    private void Detach(Attachment attachment)
    {
        lock (_outputLock)
        {
            if (!ReferenceEquals(_attachment, attachment)) return;
            attachment.Closed = true;
            _framesSentBefore += attachment.Writer.FramesWritten;
            attachment.Writer.Clear();
            _framesCorruptedBefore += attachment.Transport.FramesCorrupted;
            lock (_pastDecoders)
            {
                _pastDecoders.Add(attachment.Decoder);
                Volatile.Write(ref _attachment, null);
            }
        }
    }

    private sealed class Attachment(LineFaultTransport transport, IFrameDecoder decoder, FrameWriter writer)
    {
        public LineFaultTransport Transport { get; } = transport;
        public IFrameDecoder Decoder { get; } = decoder;
        public FrameWriter Writer { get; } = writer;
        public Thread? Thread { get; set; }
        public volatile bool Closed;
    }

    private sealed class FrameHandler(FirmwareHost host) : IFrameHandler
    {
        public void OnFrame(in FrameHeader header, ReadOnlySpan<byte> payload) => host.OnFrame(header, payload);
    }

    /// <summary>Little-endian i64 at the start of a payload (the Start* requests).</summary>
    protected static long ReadInt64(ReadOnlySpan<byte> payload) => BinaryPrimitives.ReadInt64LittleEndian(payload);
}
