using System.IO.Ports;
using Qkd.Protocol;
using Qkd.Protocol.Transport;

namespace Qkd.Hardware.Transport.Serial;

/// <summary>
/// A device on a serial port (USB CDC-ACM, USB-UART adapter, or a pseudo-terminal with emulated firmware behind it)
/// through System.IO.Ports. Framing is <see cref="FramingKind.ByteStream"/>.
/// </summary>
/// <remarks>
/// <para>Each Write is one request to the port, and on Linux System.IO.Ports hands every request to its own I/O loop
/// thread, which costs about 1 ms per call whatever the size: callers batch frames into one Write.</para>
/// <para>Disconnects. System.IO.Ports on Linux fails pending requests when the tty is hung up (the USB adapter was
/// unplugged, the pty master closed), but its I/O loop then stops for good, and a request queued after that would wait
/// forever. So the first failure is remembered and every later call fails at once; a blocked Read wakes every
/// <see cref="SerialPortOptions.LivenessCheckInterval"/> to check that the port still exists and still answers an
/// ioctl; and writes always have a finite timeout.</para>
/// <para>Dispose closes the stream itself rather than calling SerialPort.Close, which first flushes and could block
/// forever on a device that has stopped reading.</para>
/// </remarks>
public sealed class SerialFrameTransport : IFrameTransport
{
    private readonly SerialPort _port;
    private readonly Stream _stream;
    private volatile bool _disposed;
    private Exception? _disconnectCause;

    private SerialFrameTransport(SerialPortOptions options, SerialPort port)
    {
        Options = options;
        _port = port;
        _stream = port.BaseStream;
        Description = DescribePort(options.PortName);
    }

    public SerialPortOptions Options { get; }

    public string Description { get; }

    public FramingKind Framing => FramingKind.ByteStream;

    public int MaxWriteLength => int.MaxValue;

    /// <summary>Whether a disconnect has been seen; every later Read and Write throws <see cref="DeviceDisconnectedException"/>.</summary>
    public bool IsDisconnected => Volatile.Read(ref _disconnectCause) is not null;

    /// <summary>Opens the port with <paramref name="options"/> (validated first).</summary>
    /// <exception cref="ArgumentException">Invalid options (every problem listed).</exception>
    /// <exception cref="DeviceDisconnectedException">No such port: the device is not plugged in (or the path is wrong).</exception>
    /// <exception cref="DeviceException">Permission denied, port busy, settings rejected, or the native serial library missing.</exception>
    public static SerialFrameTransport Open(SerialPortOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        string device = DescribePort(options.PortName);
        var port = new SerialPort(options.PortName, options.BaudRate, options.Parity, options.DataBits, options.StopBits)
        {
            Handshake = options.Handshake,
            // DTR is raised after Open (below): System.IO.Ports only tolerates a port without modem-control lines
            // (a pty, some virtual ports: TIOCMBIS fails with ENOTTY) when it is asked to clear DTR.
            DtrEnable = false,
            // Reads wait in slices so that a dead port is noticed; Read loops over the slices (see class remarks).
            ReadTimeout = (int)ReadSlice(options).TotalMilliseconds,
            WriteTimeout = (int)options.WriteTimeout.TotalMilliseconds,
        };
        try
        {
            port.Open();
            if (options.DtrEnable)
                RaiseDtr(port);
            return new SerialFrameTransport(options, port);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            port.Dispose();
            throw OpenFailure(device, options.PortName, e);
        }
        catch (ArgumentException e)
        {
            // TermiosReset / tcsetattr refused the settings (e.g. a baud rate the driver does not support).
            port.Dispose();
            throw new DeviceException(device, "configure",
                $"the port rejected {options.BaudRate} baud, {options.DataBits} data bits, parity {options.Parity}, " +
                $"stop bits {options.StopBits}, handshake {options.Handshake}: {e.Message}", e);
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or EntryPointNotFoundException)
        {
            port.Dispose();
            throw new DeviceException(device, "open",
                "System.IO.Ports could not load its native library libSystem.IO.Ports.Native (shipped in the " +
                $"runtime.<rid>.runtime.native.System.IO.Ports package; publish for a supported RID): {e.Message}", e);
        }
    }

    /// <summary>
    /// Blocks until bytes arrive and returns how many (at least 1). Returns 0 once the transport is disposed.
    /// </summary>
    /// <exception cref="DeviceDisconnectedException">The port was unplugged or hung up (now or earlier).</exception>
    /// <exception cref="DeviceTimeoutException">Nothing arrived within a finite <see cref="SerialPortOptions.ReadTimeout"/>.</exception>
    public int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty || _disposed)
            return 0;
        ThrowIfDisconnected("read");
        long started = Environment.TickCount64;
        while (true)
        {
            try
            {
                int n = _stream.Read(buffer);
                if (n > 0)
                    return n;
                // SerialStream never completes a read with 0 bytes; treat it like a silent slice.
            }
            catch (TimeoutException)
            {
                // A quiet slice: nothing arrived. Fall through to the checks below.
            }
            catch (Exception) when (_disposed)
            {
                return 0;
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
            {
                throw Disconnected("read", e);
            }

            if (_disposed)
                return 0;
            CheckAlive("read");
            if (Options.ReadTimeout != Timeout.InfiniteTimeSpan
                && Environment.TickCount64 - started >= (long)Options.ReadTimeout.TotalMilliseconds)
                throw new DeviceTimeoutException(Description, "read", Options.ReadTimeout);
        }
    }

    /// <summary>
    /// Writes all of <paramref name="data"/> in one request (one ~1 ms round through the port's I/O loop). After a
    /// timeout part of the data may have gone out; the receiver drops the partial frame at the next 0x00 delimiter.
    /// </summary>
    /// <exception cref="DeviceDisconnectedException">The port was unplugged or hung up.</exception>
    /// <exception cref="DeviceTimeoutException">The driver did not take the bytes within <see cref="SerialPortOptions.WriteTimeout"/>.</exception>
    public void Write(ReadOnlySpan<byte> data)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (data.IsEmpty)
            return;
        string operation = $"write of {data.Length} bytes";
        ThrowIfDisconnected(operation);
        try
        {
            _stream.Write(data);
        }
        catch (TimeoutException)
        {
            // A stalled write is a timeout unless the port turns out to be gone.
            CheckAlive(operation);
            throw new DeviceTimeoutException(Description, operation, Options.WriteTimeout);
        }
        catch (Exception e) when ((e is IOException or ObjectDisposedException or InvalidOperationException) && !_disposed)
        {
            throw Disconnected(operation, e);
        }
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        try
        {
            // Closing the stream first (no flush) stops the I/O loop and fails pending requests; SerialPort then sees
            // the port as closed and skips its own Flush, which could block on a device that has stopped reading.
            _stream.Dispose();
        }
        catch (Exception)
        {
            // The port is being abandoned; an error closing a hung-up tty changes nothing.
        }
        try
        {
            _port.Dispose();
        }
        catch (Exception)
        {
        }
    }

    public override string ToString() => Description;

    /// <summary>
    /// Turns an open failure into a typed error. System.IO.Ports on Linux reports every failed open(2) as
    /// UnauthorizedAccessException, with the real cause in an inner IOException whose HResult is the errno; so the
    /// errno decides, not the exception type.
    /// </summary>
    internal static DeviceException OpenFailure(string device, string portName, Exception e)
    {
        Exception cause = e is UnauthorizedAccessException { InnerException: IOException inner } ? inner : e;
        int errno = cause is IOException ? cause.HResult : 0;
        const int EPERM = 1, ENOENT = 2, ENXIO = 6, EACCES = 13, EBUSY = 16, ENODEV = 19;
        if (errno is ENOENT or ENXIO or ENODEV || e is FileNotFoundException or DirectoryNotFoundException || !File.Exists(portName))
            return new DeviceDisconnectedException(device, "open (no such port: is the device plugged in and the path right?)", e);
        if (errno is EACCES or EPERM || (errno == 0 && e is UnauthorizedAccessException))
            return new DeviceException(device, "open",
                $"permission denied ({cause.Message}): the user needs read/write access to the port; install the " +
                "rules in udev-rules/ (they give group 'qkd' access), add the user to group 'qkd' and log in again", e);
        if (errno == EBUSY)
            return new DeviceException(device, "open",
                "the port is busy: another program has it open (serial ports are opened exclusively)", e);
        return new DeviceException(device, "open", cause.Message, e);
    }

    private static void RaiseDtr(SerialPort port)
    {
        try
        {
            port.DtrEnable = true;
        }
        catch (IOException)
        {
            // No modem-control lines (pseudo-terminal, virtual port): there is no DTR to raise, and a device behind
            // such a port cannot be waiting for it.
        }
    }

    private static string DescribePort(string portName) => $"serial port {portName}";

    private static TimeSpan ReadSlice(SerialPortOptions options) =>
        options.ReadTimeout == Timeout.InfiniteTimeSpan || options.ReadTimeout > options.LivenessCheckInterval
            ? options.LivenessCheckInterval
            : options.ReadTimeout;

    /// <summary>
    /// Throws <see cref="DeviceDisconnectedException"/> if the port's device node is gone (udev removed it on unplug)
    /// or the tty no longer answers FIONREAD (hung up: a USB adapter unplugged, a pty master closed).
    /// </summary>
    private void CheckAlive(string operation)
    {
        ThrowIfDisconnected(operation);
        if (!File.Exists(Options.PortName))
            throw Disconnected(operation, new IOException($"{Options.PortName} no longer exists"));
        int queued;
        try
        {
            queued = _port.BytesToRead;
        }
        catch (Exception) when (_disposed)
        {
            return;
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or ObjectDisposedException)
        {
            throw Disconnected(operation, e);
        }
        // System.IO.Ports returns the ioctl's -1 instead of throwing when the tty has been hung up.
        if (queued < 0 && !_disposed)
            throw Disconnected(operation, new IOException($"{Options.PortName} was hung up (FIONREAD failed)"));
    }

    private void ThrowIfDisconnected(string operation)
    {
        if (Volatile.Read(ref _disconnectCause) is { } cause)
            throw new DeviceDisconnectedException(Description, operation, cause);
    }

    private DeviceDisconnectedException Disconnected(string operation, Exception cause)
    {
        Interlocked.CompareExchange(ref _disconnectCause, cause, null);
        return new DeviceDisconnectedException(Description, operation, cause);
    }
}
