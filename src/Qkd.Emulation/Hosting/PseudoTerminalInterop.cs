using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Qkd.Emulation.Hosting;

/// <summary>
/// The few libc calls a pseudo-terminal needs (Linux, glibc or musl; x64 and arm64). Every struct whose layout differs
/// between libcs or architectures (termios) is handled as an opaque buffer that libc itself fills and edits, so nothing
/// here depends on a hand-written struct layout. The constants used are the same on Linux x64 and arm64.
/// </summary>
internal static partial class PseudoTerminalInterop
{
    private const string LibC = "libc";

    /// <summary>
    /// Bytes reserved for a <c>struct termios</c>: glibc's is 60 bytes and musl's 60 on both x64 and arm64; 256 leaves
    /// room for any libc without our code ever reading a field.
    /// </summary>
    public const int TermiosBufferSize = 256;

    public const int TCSANOW = 0;
    public const int F_GETFL = 3;
    public const int F_SETFL = 4;
    public const int F_SETFD = 2;
    public const int FD_CLOEXEC = 1;
    public const int O_NONBLOCK = 0x800; // 04000 on every Linux architecture we build for (x64, arm64)
    public const int EFD_CLOEXEC = 0x80000;
    public const int EFD_NONBLOCK = 0x800;
    public const short POLLIN = 0x001;
    public const short POLLOUT = 0x004;
    public const short POLLERR = 0x008;
    public const short POLLHUP = 0x010;
    public const short POLLNVAL = 0x020;
    public const int EINTR = 4;
    public const int EIO = 5;
    public const int EAGAIN = 11;

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    // glibc >= 2.34 and musl export openpty from libc itself; older glibc keeps it in libutil.
    [LibraryImport(LibC, EntryPoint = "openpty", SetLastError = true)]
    private static unsafe partial int OpenPtyLibC(out int master, out int slave, byte* name, void* termios, void* winsize);

    [LibraryImport("libutil.so.1", EntryPoint = "openpty", SetLastError = true)]
    private static unsafe partial int OpenPtyLibUtil(out int master, out int slave, byte* name, void* termios, void* winsize);

    public static unsafe int OpenPty(out int master, out int slave)
    {
        try
        {
            return OpenPtyLibC(out master, out slave, null, null, null);
        }
        catch (EntryPointNotFoundException)
        {
            return OpenPtyLibUtil(out master, out slave, null, null, null);
        }
    }

    [LibraryImport(LibC, EntryPoint = "tcgetattr", SetLastError = true)]
    public static unsafe partial int TcGetAttr(int fd, byte* termios);

    [LibraryImport(LibC, EntryPoint = "tcsetattr", SetLastError = true)]
    public static unsafe partial int TcSetAttr(int fd, int optionalActions, byte* termios);

    [LibraryImport(LibC, EntryPoint = "cfmakeraw")]
    public static unsafe partial void CfMakeRaw(byte* termios);

    [LibraryImport(LibC, EntryPoint = "ttyname_r")]
    public static unsafe partial int TtyNameR(int fd, byte* buffer, nuint length); // returns the error number, not -1

    [LibraryImport(LibC, EntryPoint = "fcntl", SetLastError = true)]
    public static partial int Fcntl(int fd, int command, int argument);

    [LibraryImport(LibC, EntryPoint = "eventfd", SetLastError = true)]
    public static partial int EventFd(uint initialValue, int flags);

    [LibraryImport(LibC, EntryPoint = "poll", SetLastError = true)]
    public static unsafe partial int Poll(PollFd* fds, nuint count, int timeoutMs);

    [LibraryImport(LibC, EntryPoint = "read", SetLastError = true)]
    public static unsafe partial nint Read(SafeFileHandle fd, byte* buffer, nuint count);

    [LibraryImport(LibC, EntryPoint = "write", SetLastError = true)]
    public static unsafe partial nint Write(SafeFileHandle fd, byte* buffer, nuint count);

    [LibraryImport(LibC, EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    /// <summary>Wraps the last errno as an IOException naming the call, for errors we cannot handle.</summary>
    public static IOException LastError(string call)
    {
        int errno = Marshal.GetLastPInvokeError();
        return Error(call, errno);
    }

    public static IOException Error(string call, int errno) =>
        new($"{call} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
}
