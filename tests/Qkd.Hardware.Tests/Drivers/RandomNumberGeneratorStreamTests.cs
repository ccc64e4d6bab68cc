using Nerdbank.Streams;
using Qkd.Core.Random;
using Qkd.Hardware.RandomNumberGenerator;
using Qkd.Protocol;
using Qkd.Protocol.Messages;
using Qkd.Protocol.Transport;

namespace Qkd.Hardware.Tests.Drivers;

/// <summary>
/// The random number generator driver's stream rules against a scripted device that sends exactly the frames a test
/// chooses: repeated and backward blocks, malformed ones, and sequence numbers that wrap at 2^32, which no well-behaved
/// emulation produces.
/// </summary>
public sealed class RandomNumberGeneratorStreamTests : IDisposable
{
    private readonly ScriptedQrng _device = new();
    private readonly ProtocolRandomNumberGenerator _qrng;
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromMinutes(1));
    private readonly Xoshiro256StarStar _random = new(5);

    public RandomNumberGeneratorStreamTests()
    {
        _qrng = new ProtocolRandomNumberGenerator(_device);
        _qrng.Connect();
        _qrng.StartStream();
    }

    public void Dispose()
    {
        _qrng.Dispose();
        _device.Dispose();
        _timeout.Dispose();
    }

    private byte[] Good(int bytes)
    {
        var data = new byte[bytes];
        ((IRandomSource)_random).Fill(data);
        return data;
    }

    /// <summary>Sends a good block and reads it back: every frame sent before it has then been taken.</summary>
    private void SendAndRead(uint sequence, long offset, int bytes = 512)
    {
        byte[] data = Good(bytes);
        _device.SendBlock(sequence, offset, data);
        var read = new byte[bytes];
        _qrng.ReadEntropy(read, _timeout.Token);
        Assert.Equal(data, read);
    }

    [Fact]
    public void Repeated_backward_and_malformed_blocks_are_counted_and_never_used()
    {
        _device.SendBlock(0, 0, Good(2_048));  // 16 384 samples: start-up testing
        SendAndRead(1, 2_048);
        Assert.True(_qrng.Health.IsHealthy);

        _device.SendBlock(1, 2_048, Good(512));     // the same sequence number again
        _device.SendBlock(2, 2_000, Good(512));     // an offset before the end of the previous block
        _device.SendPayload(3, new byte[8]);        // a header without entropy
        SendAndRead(4, 9_000);                      // after an invalid block the offset is accepted as it comes
        SendAndRead(5, 9_512);
        Assert.Equal(1, _qrng.StreamCounters.BlocksDuplicated);
        Assert.Equal(2, _qrng.StreamCounters.BlocksInvalid);
        Assert.Equal(0, _qrng.StreamCounters.BlocksLost);
        Assert.Equal(0, _qrng.StreamCounters.BytesWithheldByDevice);
        Assert.Equal(3 * 512, _qrng.StreamCounters.BytesDelivered);
        Assert.True(_qrng.Health.IsHealthy); // gaps and bad frames restart the tests' windows; they are no failure
    }

    [Fact]
    public void Sequence_numbers_that_wrap_at_two_to_the_32_are_no_loss()
    {
        _device.SendBlock(0, 0, Good(2_048));
        SendAndRead(1, 2_048);
        // Numbers are compared by their distance modulo 2^32: up to 2^31 - 1 ahead is blocks lost (two jumps to get
        // near the top), anything else would be a repeat.
        SendAndRead(0x7FFF_FFFF, 2_560);             // blocks 2 .. 0x7FFFFFFE lost
        SendAndRead(0xFFFF_FFFE, 3_072);             // blocks 0x80000000 .. 0xFFFFFFFD lost
        long lost = _qrng.StreamCounters.BlocksLost;
        Assert.Equal((0x7FFF_FFFFL - 2) + (0xFFFF_FFFEL - 0x8000_0000L), lost);
        SendAndRead(0xFFFF_FFFF, 3_584);
        SendAndRead(0, 4_096);                       // wrapped: the next block, not a repeat of block 0
        SendAndRead(1, 4_608);
        Assert.Equal(lost, _qrng.StreamCounters.BlocksLost);
        Assert.Equal(0, _qrng.StreamCounters.BlocksDuplicated);
        _device.SendBlock(0xFFFF_FFFF, 5_120, Good(512)); // now two behind: a repeat
        SendAndRead(2, 5_120 + 100);                 // 100 bytes the device withheld
        Assert.Equal(1, _qrng.StreamCounters.BlocksDuplicated);
        Assert.Equal(100, _qrng.StreamCounters.BytesWithheldByDevice);
    }

    /// <summary>
    /// A random number generator reduced to a script: it answers Identify, SetParameter, RngGetHealth and the stream
    /// requests as firmware-protocols/random-number-generator.md says, and sends the blocks the test asks for.
    /// </summary>
    private sealed class ScriptedQrng : IDeviceConnector, IDisposable
    {
        private readonly object _writeLock = new();
        private readonly FrameWriter _writer = new(FramingKind.Packet, ProtocolConstants.MaxFrameLength);
        private IFrameTransport? _device;
        private Thread? _reader;

        public string Description => "scripted random number generator";

        public IFrameTransport Connect()
        {
            var (hostEnd, deviceEnd) = FullDuplexStream.CreatePair();
            _device = new PacketStreamTransport(new StreamFrameTransport(deviceEnd, "scripted device end"));
            _reader = new Thread(Answer) { IsBackground = true, Name = "scripted qrng" };
            _reader.Start();
            return new PacketStreamTransport(new StreamFrameTransport(hostEnd, Description));
        }

        public void SendBlock(uint sequence, long offset, byte[] entropy)
        {
            var payload = new byte[EntropyBlockCodec.PayloadLength(entropy.Length)];
            EntropyBlockCodec.WriteHeader(payload, offset);
            entropy.CopyTo(payload, EntropyBlockCodec.HeaderLength);
            SendPayload(sequence, payload);
        }

        public void SendPayload(uint sequence, byte[] payload) =>
            Send(new FrameHeader(DeviceClass.RandomNumberGenerator, MessageType.RngEntropyData, FrameFlags.Stream, sequence, 0), payload);

        public void Dispose()
        {
            _device?.Dispose();
            _reader?.Join(TimeSpan.FromSeconds(5));
        }

        private void Send(FrameHeader header, ReadOnlySpan<byte> payload)
        {
            lock (_writeLock)
            {
                _writer.Append(_device!, header, payload);
                _writer.Flush(_device!);
            }
        }

        private void Answer()
        {
            var decoder = new PacketFrameDecoder();
            var buffer = new byte[ProtocolConstants.MaxFrameLength];
            var handler = new Requests(this);
            try
            {
                for (int n; (n = _device!.Read(buffer)) > 0;) decoder.Push(buffer.AsSpan(0, n), handler);
            }
            catch (Exception e) when (e is DeviceDisconnectedException or IOException or ObjectDisposedException)
            {
                // The test ended the line.
            }
        }

        private void Reply(in FrameHeader request, byte[] payload) =>
            Send(request with { Flags = FrameFlags.Response }, payload);

        private sealed class Requests(ScriptedQrng device) : IFrameHandler
        {
            public void OnFrame(in FrameHeader header, ReadOnlySpan<byte> payload)
            {
                byte[] reply = header.Type switch
                {
                    MessageType.Identify => new DeviceIdentity(DeviceClass.RandomNumberGenerator, 1, 0x1209, 0x7D04, new Version(1, 0, 0), 1,
                        "QRNG-SCRIPT", "scripted").ToPayload(),
                    MessageType.SetParameter => payload.ToArray(),
                    MessageType.RngGetHealth => new RngHealthReport(RngHealthFlags.StartupTestPassed, 16_384, 0, 0, 0, 0).ToPayload(),
                    MessageType.RngStopStream => new StreamSummary(0, 0).ToPayload(),
                    _ => [],
                };
                device.Reply(header, reply);
            }
        }
    }
}
