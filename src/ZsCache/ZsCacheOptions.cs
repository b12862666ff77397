namespace ZsCache;

/// <summary>
/// Options of a <see cref="ZsDistributedCache"/>. Names are part of the public contract;
/// defaults are tuned by measurement (see <c>docs/benchmarks.md</c>).
/// </summary>
public sealed class ZsCacheOptions
{
    /// <summary>The smallest pool limit accepted: one MiB.</summary>
    public const long MinPoolBytes = 1024 * 1024;

    /// <summary>
    /// Upper bound on the bytes of zspage memory the pool holds. Stores never push the pool
    /// past it. Any value from one MiB up is valid. Default: 256 MiB.
    /// </summary>
    public long MaxPoolBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>
    /// Prefix put in front of every cache key in the writeback tier, exactly as
    /// <c>RedisCacheOptions.InstanceName</c> does. Instances that share a tier and an
    /// instance name read each other's written-back values.
    /// </summary>
    public string? InstanceName { get; set; }

    /// <summary>Codec for stored values. Values that do not shrink are stored raw either way.</summary>
    public ZsCompression Compression { get; set; } = ZsCompression.Lz4;

    /// <summary>
    /// Largest value accepted, in bytes; a larger one gets <see cref="ArgumentOutOfRangeException"/>.
    /// Default: 16 MiB; at most 1 GiB. A value the pool cannot hold goes straight to the writeback tier
    /// (or is dropped when there is none).
    /// </summary>
    public long MaxValueBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>
    /// How shrink picks the entries to write back or drop. Default: <see cref="ZsWritebackPolicy.EntryClock"/>,
    /// which caused 7-23 % fewer fault-ins than the seed's zspage LRU in every workload of the
    /// study in <c>docs/writeback-policy.md</c>.
    /// </summary>
    public ZsWritebackPolicy WritebackPolicy { get; set; } = ZsWritebackPolicy.EntryClock;
}

/// <summary>The codec a <see cref="ZsDistributedCache"/> stores values with.</summary>
public enum ZsCompression
{
    /// <summary>LZ4 block compression (K4os.Compression.LZ4).</summary>
    Lz4 = 0,

    /// <summary>Values are stored as they are.</summary>
    None = 1,
}

/// <summary>How the shrinker chooses victims when the pool must give memory back.</summary>
public enum ZsWritebackPolicy
{
    /// <summary>
    /// The seed's policy (zsmalloc's <c>zs_reclaim_page</c>): every object of the
    /// least-recently-stored zspage is written back together.
    /// </summary>
    ZspageLru = 0,

    /// <summary>
    /// Per-entry CLOCK (second chance), as zswap does since 2023: entries touched since
    /// the last pass are spared, the rest are written back, and compaction frees the holes.
    /// </summary>
    EntryClock = 1,
}
