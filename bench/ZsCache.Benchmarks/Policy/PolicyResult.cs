namespace ZsCache.Benchmarks.Policy;

/// <summary>What one cache did with one trace, over the measured requests (after the warm-up).</summary>
public sealed record PolicyResult
{
    public required string Workload { get; init; }

    public required string Cache { get; init; }

    public int Repeat { get; init; }

    /// <summary>Measured requests (each one Get, plus a Set when it missed).</summary>
    public long Requests { get; init; }

    /// <summary>Gets that returned a value, from either tier.</summary>
    public long Hits { get; init; }

    public long Misses { get; init; }

    /// <summary>Gets served from memory: ZsCache's pool, or MemoryDistributedCache.</summary>
    public long PoolHits { get; init; }

    /// <summary>Gets served by faulting in from Redis.</summary>
    public long WritebackHits { get; init; }

    /// <summary>Fault-ins of entries written back within the last five minutes (ZsCache's own count).</summary>
    public long Refaults { get; init; }

    /// <summary>Redis reads: every Get the pool could not serve is one.</summary>
    public long RedisReads { get; init; }

    public long RedisReadHits { get; init; }

    /// <summary>Pipelined write round trips (a reclaim batch, or one store that bypassed a full pool).</summary>
    public long RedisWriteCalls { get; init; }

    /// <summary>Objects stored in Redis: writebacks, and stores that bypassed a full pool.</summary>
    public long ObjectsWritten { get; init; }

    public long ObjectsOffered { get; init; }

    /// <summary>Bytes of <see cref="ObjectsWritten"/> (compressed, as held in the pool).</summary>
    public long BytesWritten { get; init; }

    /// <summary>Fence writes (one per Set, whatever the policy).</summary>
    public long Fences { get; init; }

    public long CompactionMoved { get; init; }

    /// <summary>Entries that left the pool without reaching Redis (should be 0: the tier is up).</summary>
    public long Dropped { get; init; }

    public long EntriesInPoolAtEnd { get; init; }

    public long PoolBytesAtEnd { get; init; }

    /// <summary>Means over the measured requests (sampled): zspage memory, raw bytes of the values held, entries held.</summary>
    public double PoolBytesMean { get; init; }

    public double RawBytesHeldMean { get; init; }

    public double EntriesInPoolMean { get; init; }

    /// <summary>Value bytes the pool held at the end, as stored (compressed) and as given (raw).</summary>
    public long StoredCompressedAtEnd { get; init; }

    public long StoredOriginalAtEnd { get; init; }

    /// <summary>Per size class at the end: class size, objects allocated, objects used, zspages, pages per zspage.</summary>
    public string? ClassesAtEnd { get; init; }

    /// <summary>Request time (Get, plus Set on a miss; not the value's generation), microseconds.</summary>
    public double P50Us { get; init; }

    public double P99Us { get; init; }

    public double P999Us { get; init; }

    public double MeanUs { get; init; }

    /// <summary>Wall time of the measured requests, value generation on misses included.</summary>
    public double Seconds { get; init; }

    public long Verified { get; init; }

    /// <summary>Hits whose bytes were not the value stored: must be 0.</summary>
    public long Mismatches { get; init; }

    public string? LoadAverage { get; init; }

    public double PoolShare => Share(PoolHits);

    public double HitRatio => Share(Hits);

    public double RedisReadsPer1k => Per1k(RedisReads);

    /// <summary>Gets served from Redis: the reads a victim policy can save (the other Redis reads are true misses).</summary>
    public double FaultInsPer1k => Per1k(WritebackHits);

    public double RedisWritesPer1k => Per1k(ObjectsWritten);

    public double FencesPer1k => Per1k(Fences);

    public double WriteCallsPer1k => Per1k(RedisWriteCalls);

    public double CompactionMovedPer1k => Per1k(CompactionMoved);

    public double MiBWritten => BytesWritten / 1048576.0;

    private double Share(long count) => Requests == 0 ? 0 : (double)count / Requests;

    private double Per1k(long count) => Requests == 0 ? 0 : 1000.0 * count / Requests;
}
