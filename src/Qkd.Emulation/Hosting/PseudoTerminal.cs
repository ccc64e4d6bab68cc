using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;
using static Qkd.Emulation.Hosting.PseudoTerminalInterop;

namespace Qkd.Emulation.Hosting;

/// <summary>
/// A real Linux pseudo-terminal pair created from C# (openpty in libc; no socat): the host opens
/// <see cref="SlavePath"/> as a serial port with System.IO.Ports, exactly as it would open /dev/ttyACM0, and emulated
/// firmware talks through <see cref="Master"/>. This exercises the real SerialPort code path (termios, the IO loop,
/// timeouts, hang-up) without hardware.
/// </summary>
/// <remarks>
/// <para>Both sides are put into raw mode (cfmakeraw). A fresh pty is a "cooked" terminal: the line discipline would
/// echo every byte the host writes back to the host, translate 0x0D to 0x0A (ICRNL) and 0x0A to 0x0D 0x0A (ONLCR),
/// treat 0x11/0x13 as XON/XOFF flow control and swallow them, turn 0x03/0x1A/0x1C into signals, buffer input until a
/// newline and treat 0x04 as end of file. Binary frames (COBS with 0x00 delimiters, CRCs of any value) would be
/// mangled; raw mode passes all 256 byte values through verbatim, with echo off.</para>
/// <para>The pty keeps its own slave descriptor open until <see cref="ReleaseSlave"/> or Dispose: on Linux, reading
/// the master while no process has the slave open fails with EIO, so without it emulated firmware started before the
/// host opens the port (or between a host close and reopen) would see errors instead of simply waiting.</para>
/// <para>Disposing <see cref="Master"/> (or the whole pty) hangs up the slave: the host sees what it sees when a USB
/// serial adapter is unplugged.</para>
/// </remarks>
public sealed class PseudoTerminal : IDisposable
{
    private readonly PseudoTerminalMasterStream _master;
    private SafeFileHandle? _slave;

    private PseudoTerminal(PseudoTerminalMasterStream master, SafeFileHandle slave, string slavePath)
    {
        _master = master;
        _slave = slave;
        SlavePath = slavePath;
    }

    /// <summary>The device path the host opens as a serial port, e.g. /dev/pts/7.</summary>
    public string SlavePath { get; }

    /// <summary>
    /// The master side: the emulated device's end of the wire. Read blocks until the host writes (0 after Dispose);
    /// Write blocks while the host is not reading. One reader thread and one writer thread may use it at once.
    /// </summary>
    public Stream Master => _master;

    /// <summary>Whether this pty still holds its own slave descriptor (see <see cref="ReleaseSlave"/>).</summary>
    public bool HoldsSlave => Volatile.Read(ref _slave) is not null;

    /// <summary>
    /// Creates a pty pair in raw mode.
    /// </summary>
    /// <exception cref="PlatformNotSupportedException">Not Linux.</exception>
    /// <exception cref="IOException">openpty or termios failed (errno in the message), e.g. no free ptys.</exception>
    public static unsafe PseudoTerminal Open()
    {
        if (!OperatingSystem.IsLinux())
            throw new PlatformNotSupportedException("PseudoTerminal uses Linux openpty/eventfd; it runs on Linux only");

        if (OpenPty(out int masterFd, out int slaveFd) != 0)
            throw LastError("openpty");
        var master = new SafeFileHandle(masterFd, ownsHandle: true);
        var slave = new SafeFileHandle(slaveFd, ownsHandle: true);
        try
        {
            // openpty's descriptors are inherited by child processes; a child (a test that starts a process) holding
            // the slave would stop the master ever seeing the host close it.
            SetCloseOnExec(masterFd, "master");
            SetCloseOnExec(slaveFd, "slave");
            MakeRaw(masterFd, "master");
            MakeRaw(slaveFd, "slave");
            string path = SlaveName(slaveFd);
            return new PseudoTerminal(new PseudoTerminalMasterStream(master, path), slave, path);
        }
        catch
        {
            master.Dispose();
            slave.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Closes the pty's own slave descriptor. Do this once the host has opened <see cref="SlavePath"/> if the emulated
    /// firmware should notice the host closing the port: after that a Master read fails with EIO when no process has
    /// the slave open.
    /// </summary>
    public void ReleaseSlave() => Interlocked.Exchange(ref _slave, null)?.Dispose();

    /// <summary>Closes master and slave. The host's open port sees a hang-up; blocked Master calls return.</summary>
    public void Dispose()
    {
        _master.Dispose();
        ReleaseSlave();
    }

    private static void SetCloseOnExec(int fd, string side)
    {
        if (Fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
            throw LastError($"fcntl(FD_CLOEXEC) on the pty {side}");
    }

    /// <summary>
    /// tcgetattr + cfmakeraw + tcsetattr on an opaque buffer: libc knows its own termios layout (which differs
    /// between glibc and musl and could between architectures), so we never lay it out by hand.
    /// </summary>
    private static unsafe void MakeRaw(int fd, string side)
    {
        byte* termios = stackalloc byte[TermiosBufferSize];
        new Span<byte>(termios, TermiosBufferSize).Clear();
        if (TcGetAttr(fd, termios) != 0)
            throw LastError($"tcgetattr on the pty {side}");
        CfMakeRaw(termios);
        if (TcSetAttr(fd, TCSANOW, termios) != 0)
            throw LastError($"tcsetattr(raw) on the pty {side}");
    }

    private static unsafe string SlaveName(int slaveFd)
    {
        const int size = 256;
        byte* name = stackalloc byte[size];
        int error = TtyNameR(slaveFd, name, size);
        if (error != 0)
            throw Error("ttyname_r on the pty slave", error);
        return Marshal.PtrToStringUTF8((nint)name) ?? throw new IOException("ttyname_r returned no name for the pty slave");
    }

    public override string ToString() => $"pty {SlavePath}";
}
