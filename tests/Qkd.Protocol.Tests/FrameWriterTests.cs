using CsCheck;
using Qkd.Protocol;
using Qkd.Protocol.Transport;

namespace Qkd.Protocol.Tests;

public class FrameWriterTests
{
    private static readonly Gen<(FrameHeader Header, byte[] Payload)> Frames =
        Gen.Select(Gen.UInt, Gen.OneOf(Gen.Int[0, 200], Gen.Int[0, ProtocolConstants.MaxPayloadLength]), Gen.Byte, (seq, length, fill) =>
            (new FrameHeader(DeviceClass.TimeTagger, MessageType.TaggerTagData, FrameFlags.Stream, seq, length),
             Enumerable.Range(0, length).Select(i => (byte)(i * 7 + fill)).ToArray()));

    [Fact]
    public void Packet_batches_never_exceed_the_transfer_size_and_never_split_a_frame()
    {
        Gen.Select(Frames.List[1, 12], Gen.Int[ProtocolConstants.MaxFrameLength, 3 * ProtocolConstants.MaxFrameLength]).Sample((frames, maxWrite) =>
        {
            var transport = new RecordingTransport(FramingKind.Packet, maxWrite);
            var writer = new FrameWriter(FramingKind.Packet, maxWrite);
            foreach (var (header, payload) in frames) writer.Append(transport, header, payload);
            writer.Flush(transport);
            Assert.Equal(0, writer.BufferedBytes);
            var received = new List<FrameHeader>();
            foreach (byte[] write in transport.Writes)
            {
                // Each write on its own decodes to whole frames with nothing left over.
                var decoder = new PacketFrameDecoder();
                var collector = new FrameCollector();
                decoder.Push(write, collector);
                Assert.Equal(0, decoder.Counters.FramesRejected);
                Assert.NotEmpty(collector.Frames);
                received.AddRange(collector.Frames.Select(f => f.Header));
            }
            Assert.Equal(frames.Select(f => f.Header), received);
            Assert.Equal(frames.Count, writer.FramesWritten);
        }, iter: 60, seed: "0Wm2q8Xb5kLc");
    }

    [Fact]
    public void Byte_stream_batches_decode_to_the_frames_in_order()
    {
        Gen.Select(Frames.List[1, 12], Gen.Int[ProtocolConstants.MaxEncodedFrameLength + 1, 200_000]).Sample((frames, maxBatch) =>
        {
            var transport = new RecordingTransport(FramingKind.ByteStream, int.MaxValue);
            var writer = new FrameWriter(FramingKind.ByteStream, maxBatch);
            foreach (var (header, payload) in frames) writer.Append(transport, header, payload);
            writer.Flush(transport);
            Assert.All(transport.Writes, w => Assert.True(w.Length <= maxBatch));
            Assert.All(transport.Writes, w => Assert.Equal(0, w[^1])); // a batch ends at a delimiter
            var decoder = new StreamFrameDecoder();
            var collector = new FrameCollector();
            foreach (byte[] write in transport.Writes) decoder.Push(write, collector);
            Assert.Equal(frames.Select(f => f.Header), collector.Frames.Select(f => f.Header));
            Assert.Equal(frames.Select(f => Convert.ToHexString(f.Payload)), collector.Frames.Select(f => Convert.ToHexString(f.Payload)));
        }, iter: 60, seed: "0Vx7c3Nq2dHs");
    }

    [Fact]
    public void Many_small_frames_cost_one_write()
    {
        var transport = new RecordingTransport(FramingKind.ByteStream, int.MaxValue);
        var writer = new FrameWriter(FramingKind.ByteStream, 1 << 20);
        for (uint i = 0; i < 100; i++) writer.Append(transport, new FrameHeader(DeviceClass.Any, MessageType.Ping, FrameFlags.None, i, 4), [1, 2, 3, 4]);
        Assert.Empty(transport.Writes);
        writer.Flush(transport);
        writer.Flush(transport); // nothing buffered: no empty write
        Assert.Single(transport.Writes);
    }

    [Theory]
    [InlineData(FramingKind.Packet)]
    [InlineData(FramingKind.ByteStream)]
    public void Frames_written_in_place_equal_appended_ones_and_cancelled_ones_vanish(FramingKind framing)
    {
        var header = new FrameHeader(DeviceClass.LaserModulator, MessageType.ModulatorSymbolData, FrameFlags.Stream, 5, 0);
        byte[] payload = Enumerable.Range(0, 300).Select(i => (byte)i).ToArray();
        var appended = new RecordingTransport(framing, 1 << 20);
        var a = new FrameWriter(framing, 1 << 20);
        a.Append(appended, header, payload);
        a.Flush(appended);

        var inPlace = new RecordingTransport(framing, 1 << 20);
        var b = new FrameWriter(framing, 1 << 20);
        b.BeginFrame(inPlace, header with { Sequence = 99 }, 10).Fill(0xEE);
        b.CancelFrame();
        payload.CopyTo(b.BeginFrame(inPlace, header, payload.Length));
        Assert.Throws<InvalidOperationException>(() => b.BeginFrame(inPlace, header, 1));
        b.EndFrame();
        Assert.Throws<InvalidOperationException>(() => b.EndFrame());
        b.Flush(inPlace);
        Assert.Equal(Assert.Single(appended.Writes), Assert.Single(inPlace.Writes));
    }

    [Fact]
    public void A_batch_smaller_than_the_largest_frame_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new FrameWriter(FramingKind.Packet, ProtocolConstants.MaxFrameLength - 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FrameWriter(FramingKind.ByteStream, ProtocolConstants.MaxEncodedFrameLength));
        var writer = new FrameWriter(FramingKind.Packet, ProtocolConstants.MaxFrameLength);
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.BeginFrame(new RecordingTransport(FramingKind.Packet, 1 << 20),
            new FrameHeader(DeviceClass.Any, MessageType.Ping, FrameFlags.None, 0, 0), ProtocolConstants.MaxPayloadLength + 1));
    }
}
