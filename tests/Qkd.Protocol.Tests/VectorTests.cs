using System.Buffers.Binary;
using CsCheck;
using Qkd.Protocol;
using Qkd.Protocol.Messages;
using Qkd.Protocol.Transport;

namespace Qkd.Protocol.Tests;

/// <summary>
/// The committed vectors in firmware-protocols/vectors/ against the host codec, in both directions: the codec encodes
/// the inputs to exactly the committed bytes and decodes the committed bytes to the expected header, payload or error.
/// </summary>
public class VectorTests
{
    public static TheoryData<string> ValidFrames => Names(ProtocolVectors.Frames("frames-valid.txt").Select(v => v.Name));
    public static TheoryData<string> InvalidFrames => Names(ProtocolVectors.Frames("frames-invalid.txt").Select(v => v.Name));
    public static TheoryData<string> StreamVectors => Names(ProtocolVectors.Sequences("streams.txt").Select(v => v.Name));
    public static TheoryData<string> PacketVectors => Names(ProtocolVectors.Sequences("packets.txt").Select(v => v.Name));
    public static TheoryData<string> PayloadVectors => Names(ProtocolVectors.Payloads().Select(v => v.Name));

    private static TheoryData<string> Names(IEnumerable<string> names)
    {
        var data = new TheoryData<string>();
        foreach (string name in names) data.Add(name);
        return data;
    }

    [Fact]
    public void Every_file_has_vectors_with_unique_names()
    {
        foreach (string file in new[] { "cobs.txt", "frames-valid.txt", "frames-invalid.txt", "streams.txt", "packets.txt", "payloads.txt" })
        {
            var lines = ProtocolVectors.Read(file);
            Assert.NotEmpty(lines);
            Assert.Equal(lines.Count, lines.Select(l => l.Name).Distinct().Count());
            int columns = file is "cobs.txt" or "streams.txt" or "packets.txt" or "payloads.txt" ? 4 : 6;
            Assert.All(lines, l => Assert.True(l.Columns.Length == columns, $"{l}: {l.Columns.Length} columns, {columns} expected"));
        }
    }

    [Fact]
    public void Crc32C_check_value_matches_the_document()
    {
        byte[] check = "123456789"u8.ToArray();
        Assert.Equal(0xE3069283u, FrameCodec.Crc(check));
        Assert.Equal(0xE3069283u, Reference.Crc32C(check));
    }

    [Fact]
    public void Cobs_vectors_encode_and_decode_exactly()
    {
        var vectors = ProtocolVectors.Cobs();
        Assert.Contains(vectors, v => v.Decoded is null);
        foreach (var v in vectors)
        {
            var decoded = new byte[v.Encoded.Length + 1];
            int n = Cobs.Decode(v.Encoded, decoded);
            if (v.Decoded is null)
            {
                Assert.True(n == -1, $"{v.Name}: invalid encoding decoded to {n} bytes");
                Assert.Null(Reference.CobsDecode(v.Encoded));
                continue;
            }
            var encoded = new byte[Cobs.MaxEncodedLength(v.Decoded.Length)];
            int m = Cobs.Encode(v.Decoded, encoded);
            Assert.True(v.Encoded.AsSpan().SequenceEqual(encoded.AsSpan(0, m)), $"{v.Name}: encoding differs");
            Assert.Equal(v.Encoded, Reference.CobsEncode(v.Decoded));
            Assert.True(v.Decoded.AsSpan().SequenceEqual(decoded.AsSpan(0, n)), $"{v.Name}: decoding differs");
            Assert.DoesNotContain((byte)0, v.Encoded);
        }
    }

    [Theory]
    [MemberData(nameof(ValidFrames))]
    public void Valid_frame_encodes_to_and_decodes_from_the_vector(string name)
    {
        var v = ProtocolVectors.Frames("frames-valid.txt").Single(x => x.Name == name);
        Assert.True(v.Expected.Ok);
        Assert.True(v.PacketExpected is { Ok: true });
        Assert.Equal(v.Expected.Fields, v.PacketExpected.Fields);
        byte[] raw = v.Raw!;
        var f = v.Expected.Fields;
        var header = new FrameHeader((DeviceClass)byte.Parse(f["class"]), (MessageType)Convert.ToByte(f["type"], 16),
            (FrameFlags)Convert.ToByte(f["flags"], 16), uint.Parse(f["seq"]), raw.Length - ProtocolConstants.Overhead);
        byte[] payload = raw[ProtocolConstants.HeaderLength..^ProtocolConstants.CrcLength];

        // Encoding: the codec, the writer for both framings, and the independent references give the committed bytes.
        var encoded = new byte[FrameCodec.FrameLength(payload.Length)];
        FrameCodec.Encode(header, payload, encoded);
        Assert.Equal(raw, encoded);
        Assert.Equal(Reference.Crc32C(raw.AsSpan(0, raw.Length - 4)), BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(raw.Length - 4)));
        Assert.Equal(v.Stream, [.. Reference.CobsEncode(raw), 0]);
        Assert.Equal(v.Stream, WriteOne(FramingKind.ByteStream, header, payload));
        Assert.Equal(raw, WriteOne(FramingKind.Packet, header, payload));

        // Decoding: the codec, the byte-stream decoder and the packet decoder accept it with this header and payload.
        Assert.Equal(FrameError.None, FrameCodec.TryDecode(raw, out FrameHeader decoded, out ReadOnlySpan<byte> decodedPayload));
        Assert.Equal(header, decoded);
        Assert.True(payload.AsSpan().SequenceEqual(decodedPayload));
        foreach (IFrameDecoder decoder in new IFrameDecoder[] { new StreamFrameDecoder(), new PacketFrameDecoder() })
        {
            var frames = new FrameCollector();
            decoder.Push(decoder is StreamFrameDecoder ? v.Stream : raw, frames);
            var (h, p) = Assert.Single(frames.Frames);
            Assert.Equal(header, h);
            Assert.Equal(payload, p);
            Assert.Equal(0, decoder.Counters.FramesRejected);
        }
    }

    private static byte[] WriteOne(FramingKind framing, FrameHeader header, byte[] payload)
    {
        var transport = new RecordingTransport(framing, 1 << 20);
        var writer = new FrameWriter(framing, 1 << 20);
        writer.Append(transport, header, payload);
        writer.Flush(transport);
        return Assert.Single(transport.Writes);
    }

    [Theory]
    [MemberData(nameof(InvalidFrames))]
    public void Invalid_frame_is_rejected_for_the_stated_reason_and_counted(string name)
    {
        var v = ProtocolVectors.Frames("frames-invalid.txt").Single(x => x.Name == name);
        Assert.False(v.Expected.Ok);
        if (v.Raw is not null)
        {
            Assert.Equal(Enum.Parse<FrameError>(v.Expected.Error!), FrameCodec.TryDecode(v.Raw, out _, out _));
            Assert.Equal(v.Stream, [.. Reference.CobsEncode(v.Raw), 0]);
        }
        AssertRejected(new StreamFrameDecoder(), v.Stream, v.Expected.Error!);
        if (v.PacketExpected is not null)
        {
            Assert.NotNull(v.Raw);
            AssertRejected(new PacketFrameDecoder(), v.Raw!, v.PacketExpected.Error!);
        }
    }

    private static void AssertRejected(IFrameDecoder decoder, byte[] input, string reason)
    {
        var frames = new FrameCollector();
        decoder.Push(input, frames);
        Assert.Empty(frames.Frames);
        Assert.Equal(1, decoder.Counters.FramesRejected);
        Assert.Equal(1, CounterNames.Of(decoder.Counters, reason));
    }

    [Theory]
    [MemberData(nameof(StreamVectors))]
    public void Byte_stream_vector_gives_the_stated_frames_and_counters_in_any_chunking(string name)
    {
        var v = ProtocolVectors.Sequences("streams.txt").Single(x => x.Name == name);
        byte[] stream = Assert.Single(v.Chunks);
        AssertSequence(v, [stream], new StreamFrameDecoder());
        Gen.Int[1, 300].Array[1, 50].Sample(sizes =>
        {
            var chunks = new List<byte[]>();
            for (int at = 0, i = 0; at < stream.Length; i++)
            {
                int size = Math.Min(sizes[i % sizes.Length], stream.Length - at);
                chunks.Add(stream[at..(at + size)]);
                at += size;
            }
            AssertSequence(v, chunks, new StreamFrameDecoder());
        }, iter: 20, seed: "0N0XIzNsQ0O2");
    }

    [Theory]
    [MemberData(nameof(PacketVectors))]
    public void Packet_vector_gives_the_stated_frames_and_counters(string name)
    {
        var v = ProtocolVectors.Sequences("packets.txt").Single(x => x.Name == name);
        AssertSequence(v, v.Chunks, new PacketFrameDecoder());
    }

    private static void AssertSequence(ProtocolVectors.SequenceVector v, IEnumerable<byte[]> chunks, IFrameDecoder decoder)
    {
        var frames = new FrameCollector();
        foreach (byte[] chunk in chunks) decoder.Push(chunk, frames);
        Assert.Equal(long.Parse(v.Expected["accepted"]), decoder.Counters.FramesAccepted);
        Assert.Equal(v.Expected["sequences"], frames.Frames.Count == 0 ? "-" : string.Join(",", frames.Frames.Select(f => f.Header.Sequence)));
        Assert.Equal(long.Parse(v.Expected["rejected"]), decoder.Counters.FramesRejected);
        foreach (var (key, value) in v.Expected)
            if (key is not ("accepted" or "sequences" or "rejected"))
                Assert.True(long.Parse(value) == CounterNames.Of(decoder.Counters, key), $"{v.Name}: {key} = {CounterNames.Of(decoder.Counters, key)}, {value} expected");
    }

    [Theory]
    [MemberData(nameof(PayloadVectors))]
    public void Payload_vector_decodes_to_its_fields_and_encodes_back(string name)
    {
        var v = ProtocolVectors.Payloads().Single(x => x.Name == name);
        if (v.Expected.Ok)
        {
            string rendered = PayloadFields.Render(v.Message, v.Payload);
            Assert.Equal(v.Expected.Fields, ProtocolVectors.ParseFields(rendered));
            Assert.Equal(v.Payload, PayloadFields.Build(v.Message, v.Expected.Fields));
        }
        else
        {
            Assert.Equal("MalformedPayload", v.Expected.Error);
            Assert.Throws<PayloadFormatException>(() => PayloadFields.Render(v.Message, v.Payload));
        }
    }

    [Fact]
    public void Every_message_type_of_every_class_has_a_valid_frame_vector()
    {
        var seen = ProtocolVectors.Frames("frames-valid.txt")
            .Select(v => ((DeviceClass)v.Raw![1], (MessageType)v.Raw[2], (FrameFlags)v.Raw[3])).ToHashSet();
        DeviceClass[] classes = [DeviceClass.SinglePhotonDetector, DeviceClass.LaserModulator, DeviceClass.TimeTagger, DeviceClass.RandomNumberGenerator];
        foreach (var c in classes)
        {
            foreach (var t in new[] { MessageType.Identify, MessageType.Ping, MessageType.GetStatus, MessageType.GetParameter, MessageType.SetParameter, MessageType.ResetSettings })
            {
                Assert.True(seen.Contains((c, t, FrameFlags.None)) || seen.Contains((DeviceClass.Any, t, FrameFlags.None)) || t is MessageType.GetParameter or MessageType.SetParameter && seen.Any(s => s.Item2 == t), $"{c} {t} request");
                Assert.True(seen.Any(s => (s.Item1 == c || s.Item1 == DeviceClass.Any) && s.Item2 == t && s.Item3 == FrameFlags.Response) || seen.Any(s => s.Item2 == t && s.Item3 == FrameFlags.Response), $"{c} {t} response");
            }
            Assert.Contains((c, MessageType.StatusChanged, FrameFlags.Event), seen);
        }
        (DeviceClass, MessageType, FrameFlags)[] specific =
        [
            (DeviceClass.SinglePhotonDetector, MessageType.DetectorReadCounts, FrameFlags.None), (DeviceClass.SinglePhotonDetector, MessageType.DetectorReadCounts, FrameFlags.Response),
            (DeviceClass.SinglePhotonDetector, MessageType.InterlockChanged, FrameFlags.Event),
            (DeviceClass.SinglePhotonDetector, MessageType.DetectorStartBasisModulation, FrameFlags.None), (DeviceClass.SinglePhotonDetector, MessageType.DetectorStartBasisModulation, FrameFlags.Response),
            (DeviceClass.SinglePhotonDetector, MessageType.DetectorStopBasisModulation, FrameFlags.None), (DeviceClass.SinglePhotonDetector, MessageType.DetectorStopBasisModulation, FrameFlags.Response),
            (DeviceClass.SinglePhotonDetector, MessageType.DetectorBasisData, FrameFlags.Stream),
            (DeviceClass.LaserModulator, MessageType.ModulatorStartEmission, FrameFlags.None), (DeviceClass.LaserModulator, MessageType.ModulatorStartEmission, FrameFlags.Response),
            (DeviceClass.LaserModulator, MessageType.ModulatorStartEmission, FrameFlags.Response | FrameFlags.Nack),
            (DeviceClass.LaserModulator, MessageType.ModulatorStopEmission, FrameFlags.None), (DeviceClass.LaserModulator, MessageType.ModulatorStopEmission, FrameFlags.Response),
            (DeviceClass.LaserModulator, MessageType.ModulatorSymbolData, FrameFlags.Stream), (DeviceClass.LaserModulator, MessageType.Overflow, FrameFlags.Event),
            (DeviceClass.TimeTagger, MessageType.TaggerStartStream, FrameFlags.None), (DeviceClass.TimeTagger, MessageType.TaggerStartStream, FrameFlags.Response),
            (DeviceClass.TimeTagger, MessageType.TaggerStopStream, FrameFlags.None), (DeviceClass.TimeTagger, MessageType.TaggerStopStream, FrameFlags.Response),
            (DeviceClass.TimeTagger, MessageType.TaggerTagData, FrameFlags.Stream), (DeviceClass.TimeTagger, MessageType.Overflow, FrameFlags.Event),
            (DeviceClass.RandomNumberGenerator, MessageType.RngStartStream, FrameFlags.None), (DeviceClass.RandomNumberGenerator, MessageType.RngStartStream, FrameFlags.Response),
            (DeviceClass.RandomNumberGenerator, MessageType.RngStopStream, FrameFlags.None), (DeviceClass.RandomNumberGenerator, MessageType.RngStopStream, FrameFlags.Response),
            (DeviceClass.RandomNumberGenerator, MessageType.RngEntropyData, FrameFlags.Stream),
            (DeviceClass.RandomNumberGenerator, MessageType.RngGetHealth, FrameFlags.None), (DeviceClass.RandomNumberGenerator, MessageType.RngGetHealth, FrameFlags.Response),
            (DeviceClass.RandomNumberGenerator, MessageType.RngHealthChanged, FrameFlags.Event),
        ];
        foreach (var s in specific) Assert.Contains(s, seen);
        var nackCodes = ProtocolVectors.Payloads().Where(p => p.Message == "Nack" && p.Expected.Ok)
            .Select(p => (ErrorCode)NackPayload.Read(p.Payload).Code).ToHashSet();
        Assert.Equal(Enum.GetValues<ErrorCode>().ToHashSet(), nackCodes);
    }

    [Fact]
    public void Largest_payload_vectors_are_present()
    {
        var lengths = ProtocolVectors.Frames("frames-valid.txt").Select(v => v.Raw!.Length).ToList();
        Assert.Contains(ProtocolConstants.MaxFrameLength, lengths);
        Assert.Contains(ProtocolConstants.Overhead, lengths);
    }
}

public class VectorGeneratorTests
{
    /// <summary>
    /// The committed vectors are what the generator writes, so they can be regenerated after a deliberate protocol
    /// change (set QKD_REGENERATE_VECTORS=1 and run this test; review the diff).
    /// </summary>
    [Fact]
    public void Committed_vectors_are_reproducible_from_the_generator()
    {
        string folder = ProtocolVectors.Folder();
        var files = VectorGenerator.Files();
        if (Environment.GetEnvironmentVariable(VectorGenerator.RegenerateVariable) == "1")
        {
            foreach (var (name, text) in files) File.WriteAllText(Path.Combine(folder, name), text);
            return;
        }
        foreach (var (name, text) in files)
        {
            string path = Path.Combine(folder, name);
            Assert.True(File.Exists(path), $"{path} is missing; run with {VectorGenerator.RegenerateVariable}=1.");
            Assert.True(File.ReadAllText(path) == text, $"{path} differs from the generator; review, then run with {VectorGenerator.RegenerateVariable}=1.");
        }
    }
}
