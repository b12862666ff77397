using System.Runtime.InteropServices;

namespace ZsCache.Benchmarks.Workload;

/// <summary>
/// CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID). A workstation blocking GC runs on the
/// thread that triggered it, so this is the GC's own work, unlike wall-clock time, which also counts
/// the time the thread waited for a core on a loaded machine.
/// </summary>
internal static partial class ThreadCpuClock
{
    private const int ClockThreadCpuTimeId = 3;

    /// <summary>Nanoseconds of CPU time this thread has used, or -1 where the clock is not available.</summary>
    public static long NowNanoseconds()
    {
        if (!OperatingSystem.IsLinux())
        {
            return -1;
        }

        return clock_gettime(ClockThreadCpuTimeId, out Timespec t) == 0 ? t.Seconds * 1_000_000_000 + t.Nanoseconds : -1;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", SetLastError = false)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int clock_gettime(int clockId, out Timespec time);
}
