using BenchmarkDotNet.Attributes;
using Qkd.Core.Symbols;
using Qkd.Core.TimeTags;
using Qkd.Protocol;
using Qkd.Protocol.Messages;
using Qkd.Protocol.Transport;

namespace Qkd.Benchmarks;

/// <summary>
/// The device wire protocol's hot paths, without a transport: a time tagger's TagData frames encoded (records, CRC,
/// COBS for byte streams) and decoded back into tags, and the modulator's symbol stream generated and packed. One
/// operation = one million tags (or symbols); divide 1e6 by the time for the rate.
/// </summary>
[MemoryDiagnoser]
public class WireProtocolBenchmarks
{
    private const int Tags = 1_000_000;
    private readonly TimeTag[] _tags = new TimeTag[Tags];
    private readonly TimeTag[] _decoded = new TimeTag[TagRecordCodec.MaxRecordsPerFrame];
    private readonly byte[] _symbols = new byte[Tags / 2];
    private SeededSymbolSource _source = null!;
    private CapturingTransport _stream = null!;
    private CapturingTransport _packets = null!;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(3);
        long t = 0;
        for (int i = 0; i < Tags; i++)
        {
            t += random.Next(1, 100_000);
            _tags[i] = new TimeTag(t, (ushort)random.Next(0, 5));
        }
        _source = new SeededSymbolSource(7, new SymbolDistribution(0.75, [0.65, 0.25, 0.10]));
        _stream = new CapturingTransport(FramingKind.ByteStream);
        _packets = new CapturingTransport(FramingKind.Packet);
    }

    [Benchmark(Description = "TagData over a byte stream (COBS): encode + decode 1e6 tags")]
    public long TagsOverByteStream() => RoundTrip(_stream);

    [Benchmark(Description = "TagData over USB packets: encode + decode 1e6 tags")]
    public long TagsOverPackets() => RoundTrip(_packets);

    [Benchmark(Description = "Symbol stream: generate and pack 1e6 symbols")]
    public byte PackSymbols()
    {
        _source.FillPacked(123_456, _symbols);
        return _symbols[^1];
    }

    private long RoundTrip(CapturingTransport transport)
    {
        transport.Reset();
        var writer = new FrameWriter(transport.Framing, transport.Framing == FramingKind.Packet ? ProtocolConstants.MaxFrameLength : 1 << 18);
        uint sequence = 0;
        for (int i = 0; i < Tags; i += TagRecordCodec.MaxRecordsPerFrame)
        {
            int n = Math.Min(TagRecordCodec.MaxRecordsPerFrame, Tags - i);
            Span<byte> payload = writer.BeginFrame(transport, new FrameHeader(DeviceClass.TimeTagger, MessageType.TaggerTagData, FrameFlags.Stream, sequence++, 0), n * TagRecordCodec.RecordLength);
            TagRecordCodec.Write(_tags.AsSpan(i, n), payload);
            writer.EndFrame();
        }
        writer.Flush(transport);
        var counter = new TagCounter(_decoded);
        transport.Replay(counter);
        return counter.Tags;
    }

    private sealed class TagCounter(TimeTag[] destination) : IFrameHandler
    {
        public long Tags;

        public void OnFrame(in FrameHeader header, ReadOnlySpan<byte> payload) => Tags += TagRecordCodec.Read(payload, destination, out _);
    }

    /// <summary>Keeps every write (one transfer each) so it can be fed to a decoder as reads.</summary>
    private sealed class CapturingTransport(FramingKind framing) : IFrameTransport
    {
        private readonly byte[] _buffer = new byte[40 << 20];
        private readonly List<(int Offset, int Length)> _writes = new();
        private int _length;

        public string Description => "capture";
        public FramingKind Framing { get; } = framing;
        public int MaxWriteLength => ProtocolConstants.MaxFrameLength;

        public void Write(ReadOnlySpan<byte> data)
        {
            data.CopyTo(_buffer.AsSpan(_length));
            _writes.Add((_length, data.Length));
            _length += data.Length;
        }

        public int Read(Span<byte> buffer) => 0;

        public void Dispose()
        {
        }

        public void Reset()
        {
            _length = 0;
            _writes.Clear();
        }

        public void Replay(IFrameHandler handler)
        {
            var decoder = IFrameDecoder.For(Framing);
            foreach (var (offset, length) in _writes) decoder.Push(_buffer.AsSpan(offset, length), handler);
        }
    }
}
