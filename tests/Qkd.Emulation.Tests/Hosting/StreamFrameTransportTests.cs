using Nerdbank.Streams;
using Qkd.Emulation.Hosting;
using Qkd.Protocol.Transport;
using Qkd.Protocol;

namespace Qkd.Emulation.Tests.Hosting;

public class StreamFrameTransportTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static byte[] RandomBytes(int count, int seed)
    {
        var bytes = new byte[count];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static byte[] ReadExactly(IFrameTransport transport, int count)
    {
        var received = new byte[count];
        int filled = 0;
        while (filled < count)
        {
            int n = transport.Read(received.AsSpan(filled));
            Assert.True(n > 0, $"{transport.Description} ended after {filled} of {count} bytes");
            filled += n;
        }
        return received;
    }

    [Fact]
    public void Is_a_byte_stream_that_accepts_any_write_size()
    {
        (Stream a, Stream b) = FullDuplexStream.CreatePair();
        using var transport = new StreamFrameTransport(a, "emulated detector (in process)");
        b.Dispose();
        Assert.Equal(FramingKind.ByteStream, transport.Framing);
        Assert.Equal(int.MaxValue, transport.MaxWriteLength);
        Assert.Equal("emulated detector (in process)", transport.Description);
    }

    [Fact]
    public async Task Bytes_round_trip_both_ways_over_a_full_duplex_stream()
    {
        (Stream hostSide, Stream deviceSide) = FullDuplexStream.CreatePair();
        using var host = new StreamFrameTransport(hostSide, "emulated time tagger (in process)");
        using var device = new StreamFrameTransport(deviceSide, "host (in process)");
        byte[] request = [.. Enumerable.Range(0, 256).Select(i => (byte)i), .. RandomBytes(100_000, seed: 1)];
        byte[] reply = RandomBytes(300_000, seed: 2);

        // Pipes have bounded buffers: each direction's reader runs on its own thread while the writer writes.
        Task<byte[]> deviceReads = Task.Run(() => ReadExactly(device, request.Length), Token);
        Task<byte[]> hostReads = Task.Run(() => ReadExactly(host, reply.Length), Token);
        host.Write(request);
        device.Write(reply);

        Assert.Equal(request, await deviceReads.WaitAsync(Patience, Token));
        Assert.Equal(reply, await hostReads.WaitAsync(Patience, Token));
    }

    [Fact]
    public async Task Peer_closing_gives_zero_then_a_typed_disconnect_on_write()
    {
        (Stream hostSide, Stream deviceSide) = FullDuplexStream.CreatePair();
        using var host = new StreamFrameTransport(hostSide, "emulated modulator (in process)");
        Task<int> read = Task.Run(() => host.Read(new byte[64]), Token);

        deviceSide.Dispose();

        Assert.Equal(0, await read.WaitAsync(Patience, Token));
        Assert.True(host.EndOfStream);
        Assert.Equal(0, host.Read(new byte[64]));
        var e = Assert.Throws<DeviceDisconnectedException>(() => host.Write([1, 2, 3]));
        Assert.Equal("emulated modulator (in process)", e.Device);
        Assert.Contains("write of 3 bytes", e.Operation);
    }

    [Fact]
    public async Task Own_dispose_ends_a_blocked_read_with_zero()
    {
        (Stream hostSide, Stream deviceSide) = FullDuplexStream.CreatePair();
        using var _ = deviceSide;
        var host = new StreamFrameTransport(hostSide, "emulated detector (in process)");
        Task<int> read = Task.Run(() => host.Read(new byte[64]), Token);
        await Task.Delay(50, Token); // let the read block (it returns 0 either way)

        host.Dispose();

        Assert.Equal(0, await read.WaitAsync(Patience, Token));
        Assert.Equal(0, host.Read(new byte[64]));
        Assert.Throws<ObjectDisposedException>(() => host.Write([1]));
    }

    [Fact]
    public void An_IO_error_is_a_typed_disconnect_naming_the_device()
    {
        using var transport = new StreamFrameTransport(new FailingStream(), "detector SPD-3 (pipe)");

        var read = Assert.Throws<DeviceDisconnectedException>(() => transport.Read(new byte[8]));
        var write = Assert.Throws<DeviceDisconnectedException>(() => transport.Write([1]));

        Assert.Equal("detector SPD-3 (pipe)", read.Device);
        Assert.Equal("read", read.Operation);
        Assert.IsType<IOException>(read.InnerException);
        Assert.IsType<IOException>(write.InnerException);
    }

    [Fact]
    public void Separate_read_and_write_streams_are_both_disposed_when_owned()
    {
        var input = new MemoryStream([1, 2, 3]);
        var output = new MemoryStream();
        var transport = new StreamFrameTransport(input, output, "process stdio");
        var buffer = new byte[8];

        Assert.Equal(3, transport.Read(buffer));
        transport.Write([9, 8]);
        Assert.Equal(new byte[] { 9, 8 }, output.ToArray());
        Assert.Equal(0, transport.Read(buffer));
        transport.Dispose();

        Assert.False(input.CanRead);
        Assert.False(output.CanWrite);
    }

    [Fact]
    public async Task Over_a_pty_master_the_emulated_device_sees_the_host_close_as_a_disconnect()
    {
        using var pty = PseudoTerminal.Open();
        using var device = new StreamFrameTransport(pty.Master, $"host on {pty.SlavePath}", ownsStream: false);
        using (var hostPort = new FileStream(
                   File.OpenHandle(pty.SlavePath, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite),
                   FileAccess.ReadWrite, bufferSize: 0))
        {
            pty.ReleaseSlave();
            hostPort.Write([0x00, 0x0D, 0x11, 0x13, 0x0A]);
            Assert.Equal(new byte[] { 0x00, 0x0D, 0x11, 0x13, 0x0A },
                await Task.Run(() => ReadExactly(device, 5), Token).WaitAsync(Patience, Token));
        }

        Assert.Throws<DeviceDisconnectedException>(() => device.Read(new byte[8]));
    }

    /// <summary>A stream whose device has gone: every call fails as an unplugged pipe or socket does.</summary>
    private sealed class FailingStream : Stream
    {
        public override bool CanRead => true;
        public override bool CanWrite => true;
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => throw new IOException("broken pipe");
        public override int Read(byte[] buffer, int offset, int count) => throw new IOException("connection reset");
        public override void Write(byte[] buffer, int offset, int count) => throw new IOException("broken pipe");
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
