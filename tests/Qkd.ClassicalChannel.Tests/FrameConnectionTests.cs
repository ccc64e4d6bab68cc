using System.Buffers.Binary;
using System.Net.Sockets;
using CsCheck;
using Microsoft.Extensions.Logging.Abstractions;

namespace Qkd.ClassicalChannel.Tests;

/// <summary>Whole frames over one TCP connection: the transport's framing, its limits and its counters.</summary>
public sealed class FrameConnectionTests : IDisposable
{
    private const int MaxMessageBytes = 4096;
    private readonly TestPads _pads = new(padBytes: 1024);
    private readonly AuthenticationPadStore _pad;

    public FrameConnectionTests() => _pad = _pads.Open(ChannelEnd.Alice);

    public void Dispose()
    {
        _pad.Dispose();
        _pads.Dispose();
    }

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private FrameConnection Wrap(Socket socket, ChannelSecurityCounters security) =>
        new(socket, MaxMessageBytes, ChannelEnd.Alice, security, NullLogger.Instance);

    [Fact]
    public async Task Frames_written_back_to_back_are_read_whole_and_in_order()
    {
        await Gen.Byte.Array[FrameHeader.Overhead, FrameHeader.Overhead + MaxMessageBytes].Array[1, 8].SampleAsync(async bodies =>
        {
            var (near, far) = await LoopbackSockets.ConnectAsync(Token);
            var writerSecurity = new ChannelSecurityCounters(_pad);
            var readerSecurity = new ChannelSecurityCounters(_pad);
            var writer = Wrap(near, writerSecurity);
            var reader = Wrap(far, readerSecurity);
            try
            {
                foreach (var body in bodies)
                {
                    var frame = FrameConnection.NewFrame(body.Length);
                    body.CopyTo(frame, FrameConnection.LengthPrefixBytes);
                    Assert.True(await writer.WriteFrameAsync(frame, Token));
                }
                near.Shutdown(SocketShutdown.Send);
                foreach (var body in bodies)
                    Assert.Equal(body, await reader.ReadFrameAsync(Token));
                Assert.Null(await reader.ReadFrameAsync(Token)); // a clean end between frames
                long wire = bodies.Sum(b => b.Length + FrameConnection.LengthPrefixBytes);
                Assert.Equal(wire, writerSecurity.WireBytesSent);
                Assert.Equal(wire, readerSecurity.WireBytesReceived);
                Assert.Equal(0, readerSecurity.RejectedTotal);
            }
            finally
            {
                writer.Abort();
                reader.Abort();
            }
        }, iter: 40);
    }

    public static TheoryData<string, byte[], FrameRejection?> BrokenStreams()
    {
        static byte[] Prefix(int length) => BitConverter.GetBytes(length);
        return new()
        {
            { "nothing at all", [], null },
            { "half a length prefix", [1, 0], FrameRejection.Truncated },
            { "a body too short for header and tag", Prefix(FrameHeader.Overhead - 1), FrameRejection.Truncated },
            { "a body longer than the largest message", Prefix(FrameHeader.Overhead + MaxMessageBytes + 1), FrameRejection.Malformed },
            { "a negative length", Prefix(-5), FrameRejection.Truncated },
            { "the connection ending inside the body", [.. Prefix(FrameHeader.Overhead + 10), .. new byte[50]], FrameRejection.Truncated },
        };
    }

    [Theory]
    [MemberData(nameof(BrokenStreams))]
    public async Task A_broken_stream_ends_reading_and_is_counted(string what, byte[] bytes, FrameRejection? counted)
    {
        var (near, far) = await LoopbackSockets.ConnectAsync(Token);
        var security = new ChannelSecurityCounters(_pad);
        var reader = Wrap(far, security);
        try
        {
            await near.SendAsync(bytes, SocketFlags.None, Token);
            near.Shutdown(SocketShutdown.Send);
            Assert.True(await reader.ReadFrameAsync(Token) is null, $"{what}: read a frame");
            Assert.Equal(counted is null ? 0 : 1, security.RejectedTotal);
            if (counted is { } reason) Assert.Equal(1, security.Rejected(reason));
            Assert.Equal(0, security.WireBytesReceived);
        }
        finally
        {
            near.Close(0);
            reader.Abort();
        }
    }

    [Fact]
    public async Task A_frame_is_one_write_with_its_length_prefix()
    {
        var frame = FrameConnection.NewFrame(FrameHeader.Overhead + 3);
        Assert.Equal(FrameConnection.LengthPrefixBytes + FrameHeader.Overhead + 3, frame.Length);
        Assert.Equal(FrameHeader.Overhead + 3, BinaryPrimitives.ReadInt32LittleEndian(frame));

        var (near, far) = await LoopbackSockets.ConnectAsync(Token);
        var writer = Wrap(near, new ChannelSecurityCounters(_pad));
        try
        {
            Assert.True(await writer.WriteFrameAsync(frame, Token));
            var received = new byte[frame.Length];
            await new NetworkStream(far).ReadExactlyAsync(received, Token);
            Assert.Equal(frame, received);
        }
        finally
        {
            writer.Abort();
            far.Close(0);
        }
    }

    [Fact]
    public async Task Writing_on_an_aborted_connection_fails_without_throwing()
    {
        var (near, far) = await LoopbackSockets.ConnectAsync(Token);
        var security = new ChannelSecurityCounters(_pad);
        var writer = Wrap(near, security);
        writer.Abort();
        Assert.False(await writer.WriteFrameAsync(FrameConnection.NewFrame(FrameHeader.Overhead), Token));
        Assert.Equal(0, security.WireBytesSent);
        far.Close(0);
    }
}
