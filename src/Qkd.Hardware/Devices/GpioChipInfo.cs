using System.Runtime.InteropServices;

namespace Qkd.Hardware.Devices;

/// <summary>
/// Reads a GPIO character device's name, label and line count with the kernel's GPIO_GET_CHIPINFO_IOCTL (the uAPI
/// libgpiod uses), so discovery lists chips without the legacy sysfs interface.
/// </summary>
internal static partial class GpioChipInfo
{
    // _IOR(0xB4, 0x01, struct gpiochip_info) with sizeof(gpiochip_info) = 32 + 32 + 4 = 68.
    private const ulong GpioGetChipInfoIoctl = 0x8044B401;
    private const int ORdOnly = 0, OCloExec = 0x80000;

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int ioctl(int fd, ulong request, Span<byte> argument);

    [LibraryImport("libc")]
    private static partial int close(int fd);

    /// <summary>(name, label, lines), or a problem text.</summary>
    public static (string Name, string Label, uint Lines)? TryRead(string path, out string? problem)
    {
        problem = null;
        if (!OperatingSystem.IsLinux())
        {
            problem = "GPIO chips are read on Linux only";
            return null;
        }
        int fd = open(path, ORdOnly | OCloExec);
        if (fd < 0)
        {
            problem = $"cannot open: errno {Marshal.GetLastPInvokeError()}";
            return null;
        }
        try
        {
            Span<byte> info = stackalloc byte[68];
            if (ioctl(fd, GpioGetChipInfoIoctl, info) < 0)
            {
                problem = $"GPIO_GET_CHIPINFO failed: errno {Marshal.GetLastPInvokeError()}";
                return null;
            }
            return (Text(info[..32]), Text(info[32..64]), BitConverter.ToUInt32(info[64..68]));
        }
        finally
        {
            close(fd);
        }
    }

    private static string Text(ReadOnlySpan<byte> field)
    {
        int end = field.IndexOf((byte)0);
        return System.Text.Encoding.ASCII.GetString(end < 0 ? field : field[..end]);
    }
}
