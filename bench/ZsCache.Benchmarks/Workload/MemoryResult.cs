namespace ZsCache.Benchmarks.Workload;

/// <summary>What one child process of the memory workload measured for one cache. Bytes unless named otherwise.</summary>
public sealed record MemoryResult
{
    public required string Cache { get; init; }

    public bool Available { get; init; }

    public string? Reason { get; init; }

    public long Entries { get; init; }

    /// <summary>Entries that still read back after the fill (all of them, for a cache that kept everything).</summary>
    public long EntriesResident { get; init; }

    public long RawValueBytes { get; init; }

    public long KeyChars { get; init; }

    public double FillSeconds { get; init; }

    /// <summary>GC.GetTotalMemory(true) after the fill minus before it.</summary>
    public long GcTotalMemoryDelta { get; init; }

    /// <summary>GCMemoryInfo.HeapSizeBytes after minus before (includes fragmentation, LOH and POH).</summary>
    public long GcHeapSizeDelta { get; init; }

    /// <summary>Pinned object heap size after minus before.</summary>
    public long PohSizeDelta { get; init; }

    public long GcCommittedDelta { get; init; }

    /// <summary>Pool bytes reported by ZsDistributedCache.GetStatistics(), -1 when not reported.</summary>
    public long PoolBytes { get; init; }

    /// <summary>Which statistics property <see cref="PoolBytes"/> came from.</summary>
    public string? PoolBytesSource { get; init; }

    public IReadOnlyDictionary<string, double>? ZsStatistics { get; init; }

    public long RssAnonDelta { get; init; }

    public long VmRssDelta { get; init; }

    public long PrivateDelta { get; init; }

    public long VmHwm { get; init; }

    /// <summary>For a cache whose values live in a redis-server it started: that server's RssAnon growth, else 0.</summary>
    public long ServerRssAnonDelta { get; init; }

    public long RssAnonAfter { get; init; }

    /// <summary>Full blocking compacting gen2 GC, wall clock by Stopwatch, each repetition, milliseconds.</summary>
    public IReadOnlyList<double> Gen2PauseMs { get; init; } = [];

    /// <summary>Same collections as seen by GC.GetTotalPauseDuration(), milliseconds.</summary>
    public IReadOnlyList<double> Gen2GcPauseMs { get; init; } = [];

    /// <summary>Same collections, CPU time of the collecting thread, milliseconds (insensitive to a loaded machine).</summary>
    public IReadOnlyList<double> Gen2CpuMs { get; init; } = [];

    /// <summary>/proc/loadavg when the pauses were measured: other work competing for the cores.</summary>
    public string? LoadAverage { get; init; }

    public string? GcMode { get; init; }

    /// <summary>
    /// Bytes per entry on the primary basis: private anonymous resident memory (RssAnon) grown by
    /// the fill, plus the redis-server's growth for a cache that keeps its values there.
    /// </summary>
    public double BytesPerEntryRss => Entries == 0 ? 0 : (RssAnonDelta + ServerRssAnonDelta) / (double)Entries;

    /// <summary>
    /// Bytes per entry on the accounted basis: the GC heap's growth plus pool memory the GC heap
    /// does not already include (a pool on the POH is inside the heap figure), plus a redis-server's growth.
    /// </summary>
    public double BytesPerEntryAccounted
    {
        get
        {
            if (Entries == 0)
            {
                return 0;
            }

            long offHeapPool = PoolBytes > 0 ? Math.Max(0, PoolBytes - Math.Max(0, PohSizeDelta)) : 0;
            return (GcTotalMemoryDelta + offHeapPool + ServerRssAnonDelta) / (double)Entries;
        }
    }

    public static double PerGiB(double bytesPerEntry) => bytesPerEntry <= 0 ? 0 : (1L << 30) / bytesPerEntry;

    public static double Median(IReadOnlyList<double> values)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
