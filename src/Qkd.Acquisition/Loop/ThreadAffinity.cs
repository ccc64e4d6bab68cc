using System.Runtime.InteropServices;

namespace Qkd.Acquisition.Loop;

/// <summary>Pins the calling thread to one CPU (Linux sched_setaffinity); elsewhere reports that it cannot.</summary>
internal static partial class ThreadAffinity
{
    [LibraryImport("libc", SetLastError = true)]
    private static partial int sched_setaffinity(int pid, nint cpusetsize, ref ulong mask);

    /// <summary>Returns null on success, otherwise why the thread could not be pinned.</summary>
    public static string? PinCurrentThread(int cpu)
    {
        if (!OperatingSystem.IsLinux()) return "thread pinning is supported on Linux only";
        if (cpu >= 64) return $"CPU {cpu} is beyond the 64 CPUs this affinity mask covers";
        ulong mask = 1UL << cpu;
        // pid 0 = the calling thread.
        return sched_setaffinity(0, sizeof(ulong), ref mask) == 0
            ? null
            : $"sched_setaffinity failed with errno {Marshal.GetLastPInvokeError()}";
    }
}
