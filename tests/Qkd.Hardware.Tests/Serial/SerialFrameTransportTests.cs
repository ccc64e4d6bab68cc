using System.Diagnostics;
using System.IO.Ports;
using Qkd.Emulation.Hosting;
using Qkd.Protocol.Transport;
using Qkd.Hardware.Transport.Serial;
using Qkd.Protocol;

namespace Qkd.Hardware.Tests.Serial;

/// <summary>
/// SerialFrameTransport through the real System.IO.Ports code path (native termios library, I/O loop, timeouts,
/// hang-up) against a real pseudo-terminal whose master plays the device.
/// </summary>
public class SerialFrameTransportTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static byte[] AllByteValues() => Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();

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

    private static Task<T> OnThread<T>(Func<T> blocking) =>
        Task.Factory.StartNew(blocking, Token, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private static Task OnThread(Action blocking) =>
        Task.Factory.StartNew(blocking, Token, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    [Fact]
    public void Opens_a_pty_as_a_byte_stream_named_after_the_port()
    {
        // Opening at all proves libSystem.IO.Ports.Native loaded (termios calls go through it).
        using var pty = PseudoTerminal.Open();
        using var port = SerialFrameTransport.Open(new SerialPortOptions(pty.SlavePath));

        Assert.Equal($"serial port {pty.SlavePath}", port.Description);
        Assert.Equal(FramingKind.ByteStream, port.Framing);
        Assert.Equal(int.MaxValue, port.MaxWriteLength);
        Assert.False(port.IsDisconnected);
    }

    [Fact]
    public async Task Every_byte_value_round_trips_both_ways()
    {
        using var pty = PseudoTerminal.Open();
        using var port = SerialFrameTransport.Open(new SerialPortOptions(pty.SlavePath));
        byte[] toDevice = [.. AllByteValues(), .. AllByteValues()];
        byte[] toHost = [.. AllByteValues().Reverse(), .. AllByteValues()];

        port.Write(toDevice);
        byte[] deviceGot = await OnThread(() =>
        {
            var b = new byte[toDevice.Length];
            pty.Master.ReadExactly(b);
            return b;
        }).WaitAsync(Patience, Token);
        pty.Master.Write(toHost);
        byte[] hostGot = await OnThread(() => ReadExactly(port, toHost.Length)).WaitAsync(Patience, Token);

        Assert.Equal(toDevice, deviceGot);
        Assert.Equal(toHost, hostGot);
    }

    [Fact]
    public async Task A_megabyte_round_trips_intact_in_both_directions_at_once()
    {
        const int size = 1 << 20;
        const int hostBatch = 16 * 1024; // callers batch: each SerialPort write is one trip through its I/O loop
        using var pty = PseudoTerminal.Open();
        using var port = SerialFrameTransport.Open(new SerialPortOptions(pty.SlavePath));
        byte[] toDevice = RandomBytes(size, seed: 11);
        byte[] toHost = RandomBytes(size, seed: 12);
        var clock = Stopwatch.StartNew();

        Task hostWriter = OnThread(() =>
        {
            for (int i = 0; i < size; i += hostBatch)
                port.Write(toDevice.AsSpan(i, Math.Min(hostBatch, size - i)));
        });
        Task<byte[]> deviceReader = OnThread(() =>
        {
            var b = new byte[size];
            pty.Master.ReadExactly(b);
            return b;
        });
        Task deviceWriter = OnThread(() => pty.Master.Write(toHost));
        Task<byte[]> hostReader = OnThread(() => ReadExactly(port, size));

        await Task.WhenAll(hostWriter, deviceReader, deviceWriter, hostReader).WaitAsync(Patience * 3, Token);
        clock.Stop();

        Assert.Equal(toDevice, deviceReader.Result);
        Assert.Equal(toHost, hostReader.Result);
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"pty: 2 x {size >> 20} MiB full duplex in {clock.Elapsed.TotalMilliseconds:F0} ms " +
            $"({2.0 * size / (1 << 20) / clock.Elapsed.TotalSeconds:F1} MiB/s total)");
    }

    [Fact]
    public void A_port_that_does_not_exist_is_a_typed_disconnect_naming_the_port()
    {
        const string missing = "/dev/ttyQKD-not-plugged-in";

        var e = Assert.Throws<DeviceDisconnectedException>(() => SerialFrameTransport.Open(new SerialPortOptions(missing)));

        Assert.Equal($"serial port {missing}", e.Device);
        Assert.StartsWith("open", e.Operation);
        Assert.Contains("no such port", e.Operation);
        Assert.Contains(missing, e.Message);
        Assert.NotNull(e.InnerException);
    }

    [Fact]
    public void A_path_that_is_not_a_tty_is_a_device_error_naming_the_port()
    {
        string notATty = Path.Combine(Path.GetTempPath(), $"qkd-not-a-tty-{Guid.NewGuid():N}");
        File.WriteAllBytes(notATty, [1, 2, 3]);
        try
        {
            var e = Assert.ThrowsAny<DeviceException>(() => SerialFrameTransport.Open(new SerialPortOptions(notATty)));
            Assert.Contains(notATty, e.Device);
        }
        finally
        {
            File.Delete(notATty);
        }
    }

    [Fact]
    public async Task Closing_the_master_mid_read_is_a_disconnect_not_a_hang()
    {
        var pty = PseudoTerminal.Open();
        using var port = SerialFrameTransport.Open(new SerialPortOptions(pty.SlavePath));
        Task<int> read = OnThread(() => port.Read(new byte[64]));
        await Task.Delay(100, Token); // let the read block (the outcome must be the same if it had not yet)

        pty.Dispose(); // the "USB cable" is pulled: the slave tty is hung up

        // Either the read fails as a disconnect, or it reports the end and the next write does.
        int n;
        try
        {
            n = await read.WaitAsync(Patience, Token);
        }
        catch (DeviceDisconnectedException e)
        {
            Assert.Equal($"serial port {pty.SlavePath}", e.Device);
            n = -1;
        }
        Assert.True(n <= 0, $"read returned {n} bytes from a closed pty");
        Assert.Throws<DeviceDisconnectedException>(() => port.Write([1, 2, 3]));
        Assert.True(port.IsDisconnected);
        Assert.Throws<DeviceDisconnectedException>(() => port.Read(new byte[8]));
    }

    [Fact]
    public async Task Closing_the_master_between_reads_is_seen_by_the_next_read()
    {
        var pty = PseudoTerminal.Open();
        using var port = SerialFrameTransport.Open(new SerialPortOptions(pty.SlavePath));
        pty.Master.Write([0x42]);
        Assert.Equal(0x42, (await OnThread(() => ReadExactly(port, 1)).WaitAsync(Patience, Token))[0]);

        pty.Dispose();

        await Assert.ThrowsAsync<DeviceDisconnectedException>(
            () => OnThread(() => port.Read(new byte[8])).WaitAsync(Patience, Token));
    }

    [Fact]
    public async Task Dispose_ends_a_blocked_read_with_zero()
    {
        using var pty = PseudoTerminal.Open();
        var port = SerialFrameTransport.Open(new SerialPortOptions(pty.SlavePath));
        Task<int> read = OnThread(() => port.Read(new byte[64]));
        await Task.Delay(100, Token);

        port.Dispose();

        Assert.Equal(0, await read.WaitAsync(Patience, Token));
        Assert.Equal(0, port.Read(new byte[8]));
        Assert.Throws<ObjectDisposedException>(() => port.Write([1]));
        // The port was released: it can be opened again (serial ports are opened exclusively).
        using var again = SerialFrameTransport.Open(new SerialPortOptions(pty.SlavePath));
    }

    [Fact]
    public async Task A_finite_read_timeout_is_a_typed_timeout_naming_the_port()
    {
        using var pty = PseudoTerminal.Open();
        var options = new SerialPortOptions(pty.SlavePath) { ReadTimeout = TimeSpan.FromMilliseconds(50) };
        using var port = SerialFrameTransport.Open(options);

        var e = await Assert.ThrowsAsync<DeviceTimeoutException>(
            () => OnThread(() => port.Read(new byte[8])).WaitAsync(Patience, Token));

        Assert.Equal($"serial port {pty.SlavePath}", e.Device);
        Assert.Equal(TimeSpan.FromMilliseconds(50), e.Timeout);
        Assert.False(port.IsDisconnected);
    }

    [Fact]
    public void Invalid_options_are_all_reported_at_once()
    {
        var options = new SerialPortOptions("")
        {
            BaudRate = 0,
            DataBits = 7,
            StopBits = StopBits.None,
            Handshake = Handshake.XOnXOff,
            WriteTimeout = Timeout.InfiniteTimeSpan,
        };

        var e = Assert.Throws<ArgumentException>(() => SerialFrameTransport.Open(options));

        Assert.Contains("PortName is empty", e.Message);
        Assert.Contains("BaudRate 0", e.Message);
        Assert.Contains("DataBits 7", e.Message);
        Assert.Contains("StopBits None", e.Message);
        Assert.Contains("XON/XOFF", e.Message);
        Assert.Contains("WriteTimeout", e.Message);
    }

    [Fact]
    public void Default_options_are_valid()
    {
        new SerialPortOptions("/dev/ttyACM0").Validate();
    }
}

/// <summary>
/// How open failures are classified. System.IO.Ports reports each failed open(2) as UnauthorizedAccessException with
/// the errno in an inner IOException; these cases cannot all be produced for real here (tests run as root).
/// </summary>
public class SerialOpenFailureTests
{
    private const string Device = "serial port /dev/ttyACM0";

    private static Exception AsSystemIoPortsReportsIt(int errno, string text) =>
        new UnauthorizedAccessException("Access to the port '/dev/null' is denied.", new IOException(text, errno));

    [Fact]
    public void Permission_denied_points_at_the_qkd_group_and_udev_rules()
    {
        // /dev/null exists, so only the errno says why the open failed.
        var e = SerialFrameTransport.OpenFailure(Device, "/dev/null", AsSystemIoPortsReportsIt(13, "Permission denied"));

        Assert.IsNotType<DeviceDisconnectedException>(e);
        Assert.Equal(Device, e.Device);
        Assert.Contains("permission denied", e.Cause);
        Assert.Contains("group 'qkd'", e.Cause);
        Assert.Contains("udev-rules/", e.Cause);
    }

    [Fact]
    public void A_busy_port_says_another_program_has_it_open()
    {
        var e = SerialFrameTransport.OpenFailure(Device, "/dev/null", AsSystemIoPortsReportsIt(16, "Device or resource busy"));

        Assert.IsNotType<DeviceDisconnectedException>(e);
        Assert.Contains("another program has it open", e.Cause);
    }

    [Theory]
    [InlineData(2)]  // ENOENT
    [InlineData(6)]  // ENXIO: the node exists but the device behind it is gone
    [InlineData(19)] // ENODEV
    public void A_missing_device_is_a_disconnect(int errno)
    {
        var e = SerialFrameTransport.OpenFailure(Device, "/dev/null", AsSystemIoPortsReportsIt(errno, "gone"));

        Assert.IsType<DeviceDisconnectedException>(e);
        Assert.Equal(Device, e.Device);
    }
}
