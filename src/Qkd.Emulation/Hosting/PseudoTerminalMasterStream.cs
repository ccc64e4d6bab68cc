using Microsoft.Win32.SafeHandles;
using static Qkd.Emulation.Hosting.PseudoTerminalInterop;

namespace Qkd.Emulation.Hosting;

/// <summary>
/// The master side of a <see cref="PseudoTerminal"/> as a blocking <see cref="Stream"/>: what emulated firmware reads
/// the host's bytes from and writes its replies to. One thread may read while another writes.
/// </summary>
/// <remarks>
/// Not a FileStream: closing a file descriptor on Linux does not wake a thread blocked in read() or write() on it, so a
/// firmware loop blocked on the master would keep the pty (and its thread) alive forever after Dispose. Instead the fd
/// is non-blocking and every wait is a poll() on the master plus an eventfd that Dispose signals; a blocked Read then
/// returns 0 and a blocked Write throws ObjectDisposedException. The SafeFileHandle reference count keeps the fd
/// number from being closed (and reused) while a call is still inside read()/write().
/// </remarks>
internal sealed class PseudoTerminalMasterStream : Stream
{
    private readonly SafeFileHandle _master;
    private readonly SafeFileHandle _wake;
    private readonly string _slavePath;
    private int _disposed;

    public PseudoTerminalMasterStream(SafeFileHandle master, string slavePath)
    {
        _master = master;
        _slavePath = slavePath;
        int masterFd = (int)master.DangerousGetHandle();
        int flags = Fcntl(masterFd, F_GETFL, 0);
        if (flags < 0 || Fcntl(masterFd, F_SETFL, flags | O_NONBLOCK) < 0)
            throw LastError($"fcntl(O_NONBLOCK) on the master of {slavePath}");
        int wakeFd = EventFd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (wakeFd < 0)
            throw LastError("eventfd");
        _wake = new SafeFileHandle(wakeFd, ownsHandle: true);
    }

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Flush() { } // write() hands bytes straight to the pty; nothing is buffered here

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override void Write(byte[] buffer, int offset, int count) => Write(new ReadOnlySpan<byte>(buffer, offset, count));

    /// <summary>
    /// Blocks until the host (slave side) has written something. Returns 0 after Dispose. Throws IOException when
    /// no process has the slave open any more (EIO): the host closed the port and the pty was told to release its
    /// own slave handle.
    /// </summary>
    public override unsafe int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty)
            return 0;
        bool masterRef = false, wakeRef = false;
        try
        {
            if (!TryAddRefs(ref masterRef, ref wakeRef))
                return 0;
            while (true)
            {
                if (Volatile.Read(ref _disposed) != 0)
                    return 0;
                nint n;
                fixed (byte* p = buffer)
                    n = PseudoTerminalInterop.Read(_master, p, (nuint)buffer.Length);
                if (n > 0)
                    return (int)n;
                if (n == 0)
                    return 0;
                int errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
                if (errno == EINTR)
                    continue;
                if (errno == EAGAIN)
                {
                    if (!WaitFor(POLLIN))
                        return 0;
                    continue;
                }
                if (errno == EIO)
                    throw new IOException($"pty {_slavePath}: read on the master failed with EIO: no process has the slave open");
                throw Error($"read on the master of {_slavePath}", errno);
            }
        }
        finally
        {
            ReleaseRefs(masterRef, wakeRef);
        }
    }

    /// <summary>Writes every byte, waiting while the slave's input queue is full. Throws ObjectDisposedException after Dispose.</summary>
    public override unsafe void Write(ReadOnlySpan<byte> data)
    {
        bool masterRef = false, wakeRef = false;
        try
        {
            if (!TryAddRefs(ref masterRef, ref wakeRef))
                throw new ObjectDisposedException(nameof(PseudoTerminal), $"pty {_slavePath} is closed");
            while (!data.IsEmpty)
            {
                if (Volatile.Read(ref _disposed) != 0)
                    throw new ObjectDisposedException(nameof(PseudoTerminal), $"pty {_slavePath} is closed");
                nint n;
                fixed (byte* p = data)
                    n = PseudoTerminalInterop.Write(_master, p, (nuint)data.Length);
                if (n > 0)
                {
                    data = data[(int)n..];
                    continue;
                }
                int errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
                if (n == 0 || errno == EINTR)
                    continue;
                if (errno == EAGAIN)
                {
                    if (!WaitFor(POLLOUT))
                        throw new ObjectDisposedException(nameof(PseudoTerminal), $"pty {_slavePath} is closed");
                    continue;
                }
                if (errno == EIO)
                    throw new IOException($"pty {_slavePath}: write on the master failed with EIO: no process has the slave open");
                throw Error($"write on the master of {_slavePath}", errno);
            }
        }
        finally
        {
            ReleaseRefs(masterRef, wakeRef);
        }
    }

    /// <summary>Waits until the master is ready for <paramref name="events"/> (or in error); false when Dispose woke us.</summary>
    private unsafe bool WaitFor(short events)
    {
        PollFd* fds = stackalloc PollFd[2];
        fds[0] = new PollFd { Fd = (int)_master.DangerousGetHandle(), Events = events };
        fds[1] = new PollFd { Fd = (int)_wake.DangerousGetHandle(), Events = POLLIN };
        while (true)
        {
            int r = Poll(fds, 2, -1);
            if (r >= 0)
                return fds[1].Revents == 0;
            int errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            if (errno != EINTR)
                throw Error($"poll on the master of {_slavePath}", errno);
        }
    }

    private bool TryAddRefs(ref bool masterRef, ref bool wakeRef)
    {
        try
        {
            _master.DangerousAddRef(ref masterRef);
            _wake.DangerousAddRef(ref wakeRef);
            return true;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
    }

    private void ReleaseRefs(bool masterRef, bool wakeRef)
    {
        if (masterRef)
            _master.DangerousRelease();
        if (wakeRef)
            _wake.DangerousRelease();
    }

    /// <summary>
    /// Closes the master. The slave side sees a hang-up (like an unplugged USB serial adapter): the host's reads fail
    /// or return end of file and its writes fail with EIO.
    /// </summary>
    protected override unsafe void Dispose(bool disposing)
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            // Wake every thread blocked in poll() first; the handles close once the last of them has returned.
            ulong one = 1;
            bool wakeRef = false;
            try
            {
                _wake.DangerousAddRef(ref wakeRef);
                PseudoTerminalInterop.Write(_wake, (byte*)&one, sizeof(ulong));
            }
            finally
            {
                if (wakeRef)
                    _wake.DangerousRelease();
            }
            _master.Dispose();
            _wake.Dispose();
        }
        base.Dispose(disposing);
    }
}
