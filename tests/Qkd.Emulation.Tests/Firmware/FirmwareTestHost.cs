using System.Collections.Concurrent;
using Nerdbank.Streams;
using Qkd.Core.TimeTags;
using Qkd.Protocol;
using Qkd.Protocol.Messages;
using Qkd.Protocol.Transport;

namespace Qkd.Emulation.Tests.Firmware;

/// <summary>A frame the test host received: header and a copy of the payload.</summary>
internal sealed record ReceivedFrame(FrameHeader Header, byte[] Payload)
{
    public NackPayload Nack => NackPayload.Read(Payload);
}

/// <summary>
/// The host end of an in-process line to emulated firmware, built only from the protocol codec (FrameWriter to send,
/// StreamFrameDecoder to receive), so the tests check the firmware against the wire format and nothing else.
/// Every received frame goes into one queue; <see cref="Request"/> picks its response out and keeps the rest.
/// </summary>
internal sealed class FirmwareTestHost : IDisposable
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly object _writeLock = new();
    private readonly FrameWriter _writer = new(FramingKind.ByteStream, 256 * 1024);
    private readonly StreamFrameDecoder _decoder = new();
    private readonly Thread _reader;
    private uint _sequence = 1;

    public FirmwareTestHost(IFrameTransport transport)
    {
        Transport = transport;
        _reader = new Thread(ReadLoop) { IsBackground = true, Name = "test host reader" };
        _reader.Start();
    }

    /// <summary>A connected pair: the host end (this) and the device end to plug the firmware into.</summary>
    public static (FirmwareTestHost Host, IFrameTransport DeviceEnd) Connect(string name = "emulated device")
    {
        (Stream hostStream, Stream deviceStream) = FullDuplexStream.CreatePair();
        var host = new FirmwareTestHost(new StreamFrameTransport(hostStream, $"host end of {name}"));
        return (host, new StreamFrameTransport(deviceStream, $"{name} (in process)"));
    }

    public IFrameTransport Transport { get; }

    /// <summary>Every frame received, in order, not yet taken.</summary>
    public BlockingCollection<ReceivedFrame> Frames { get; } = new();

    /// <summary>Frames set aside while waiting for a response (events, stream frames).</summary>
    public List<ReceivedFrame> SetAside { get; } = new();

    public FrameDecoderCounters Counters => _decoder.Counters;

    /// <summary>Whether the device closed the line (read returned 0 or failed).</summary>
    public volatile bool LineClosed;

    public uint NextSequence() => _sequence++;

    public void Send(FrameHeader header, ReadOnlySpan<byte> payload)
    {
        lock (_writeLock)
        {
            _writer.Append(Transport, header, payload);
            _writer.Flush(Transport);
        }
    }

    public void SendRaw(ReadOnlySpan<byte> bytes)
    {
        lock (_writeLock) Transport.Write(bytes);
    }

    /// <summary>Sends a request and returns its response (the frames before it are set aside).</summary>
    public ReceivedFrame Request(DeviceClass deviceClass, MessageType type, ReadOnlySpan<byte> payload = default)
    {
        uint sequence = NextSequence();
        Send(new FrameHeader(deviceClass, type, FrameFlags.None, sequence, 0), payload);
        return AwaitResponse(sequence) ?? throw new TimeoutException($"no response to {type} seq {sequence} within {Patience}");
    }

    public ReceivedFrame? AwaitResponse(uint sequence, TimeSpan? timeout = null)
    {
        DateTime deadline = DateTime.UtcNow + (timeout ?? Patience);
        while (true)
        {
            TimeSpan left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || !Frames.TryTake(out ReceivedFrame? frame, left)) return null;
            if (frame.Header.IsResponse && frame.Header.Sequence == sequence) return frame;
            SetAside.Add(frame);
        }
    }

    public ReceivedFrame? Next(TimeSpan? timeout = null) => Frames.TryTake(out ReceivedFrame? frame, timeout ?? Patience) ? frame : null;

    /// <summary>Sets a parameter and returns the value in force (fails the test on a nack).</summary>
    public long Set(DeviceClass deviceClass, ParameterId id, byte channel, long value)
    {
        ReceivedFrame response = Request(deviceClass, MessageType.SetParameter, new ParameterValue(id, channel, value).ToPayload());
        Assert.False(response.Header.IsNack, response.Header.IsNack ? response.Nack.Text : "");
        return ParameterValue.Read(response.Payload).Value;
    }

    public long Get(DeviceClass deviceClass, ParameterId id, byte channel = 0)
    {
        ReceivedFrame response = Request(deviceClass, MessageType.GetParameter, ParameterValue.AddressPayload(id, channel));
        Assert.False(response.Header.IsNack, response.Header.IsNack ? response.Nack.Text : "");
        return ParameterValue.Read(response.Payload).Value;
    }

    /// <summary>
    /// Reads TagData frames (and the events between them) until the tagger reports that its stream stopped by itself
    /// (StatusChanged without Running); returns the tags in order, checking the frame sequence numbers.
    /// </summary>
    public List<TimeTag> ReadStreamUntilStopped(List<ReceivedFrame>? events = null, uint firstSequence = 0)
    {
        var tags = new List<TimeTag>();
        var decoded = new TimeTag[TagRecordCodec.MaxRecordsPerFrame];
        uint expected = firstSequence;
        foreach (ReceivedFrame frame in TakeSetAside().Concat(Drain()))
        {
            if (frame.Header.IsStream)
            {
                Assert.Equal(MessageType.TaggerTagData, frame.Header.Type);
                Assert.Equal(expected++, frame.Header.Sequence);
                int n = TagRecordCodec.Read(frame.Payload, decoded, out string? error);
                Assert.True(n >= 0, error);
                Assert.InRange(n, 1, TagRecordCodec.MaxRecordsPerFrame);
                tags.AddRange(decoded.AsSpan(0, n));
                continue;
            }
            if (!frame.Header.IsEvent) continue;
            events?.Add(frame);
            if (frame.Header.Type == MessageType.StatusChanged)
            {
                StatusChange change = StatusChange.Read(frame.Payload);
                if ((change.Before & StatusFlags.Running) != 0 && (change.After & StatusFlags.Running) == 0) return tags;
            }
        }
        throw new TimeoutException("the stream did not stop by itself");
    }

    private IEnumerable<ReceivedFrame> TakeSetAside()
    {
        ReceivedFrame[] frames = SetAside.ToArray();
        SetAside.Clear();
        return frames;
    }

    private IEnumerable<ReceivedFrame> Drain()
    {
        while (Frames.TryTake(out ReceivedFrame? frame, TimeSpan.FromSeconds(60))) yield return frame;
    }

    public void Dispose()
    {
        Transport.Dispose();
        _reader.Join(TimeSpan.FromSeconds(5));
    }

    private void ReadLoop()
    {
        var buffer = new byte[ProtocolConstants.MaxEncodedFrameLength + 1];
        var handler = new Collector(Frames);
        try
        {
            while (true)
            {
                int n = Transport.Read(buffer);
                if (n == 0) break;
                _decoder.Push(buffer.AsSpan(0, n), handler);
            }
        }
        catch (Qkd.Protocol.DeviceDisconnectedException)
        {
        }
        LineClosed = true;
    }

    private sealed class Collector(BlockingCollection<ReceivedFrame> frames) : IFrameHandler
    {
        public void OnFrame(in FrameHeader header, ReadOnlySpan<byte> payload) => frames.Add(new ReceivedFrame(header, payload.ToArray()));
    }
}
