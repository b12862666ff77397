using System.Globalization;

namespace ZsCache.Benchmarks.Workload;

/// <summary>What Linux says this process holds: /proc/self/status and /proc/self/smaps_rollup, in bytes.</summary>
public sealed record ProcStatus(long VmRss, long RssAnon, long RssFile, long VmHwm, long PrivateDirty, long PrivateClean)
{
    /// <summary>Private resident bytes (smaps_rollup Private_Clean + Private_Dirty).</summary>
    public long Private => PrivateDirty + PrivateClean;

    public static ProcStatus Read(string process = "self")
    {
        var status = ReadKb($"/proc/{process}/status");
        var rollup = ReadKb($"/proc/{process}/smaps_rollup");
        return new ProcStatus(
            Get(status, "VmRSS"), Get(status, "RssAnon"), Get(status, "RssFile"), Get(status, "VmHWM"),
            Get(rollup, "Private_Dirty"), Get(rollup, "Private_Clean"));
    }

    private static long Get(Dictionary<string, long> values, string name) => values.TryGetValue(name, out long v) ? v : -1;

    private static Dictionary<string, long> ReadKb(string path)
    {
        var values = new Dictionary<string, long>(StringComparer.Ordinal);
        if (!File.Exists(path))
        {
            return values;
        }

        foreach (string line in File.ReadLines(path))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }

            string[] parts = line[(colon + 1)..].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 2 && parts[1] == "kB" && long.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out long kb))
            {
                values[line[..colon]] = kb * 1024;
            }
        }

        return values;
    }
}
