namespace ZsCache;

/// <summary>A snapshot of a <see cref="ZsDistributedCache"/>: pool, tiers, traffic and the per-class table.</summary>
public sealed class ZsCacheStatistics
{
    /// <summary>Bytes of zspage memory the pool holds.</summary>
    public required long PoolBytes { get; init; }

    /// <summary><see cref="ZsCacheOptions.MaxPoolBytes"/>.</summary>
    public required long PoolLimit { get; init; }

    /// <summary>Pages (4 KiB) the pool holds.</summary>
    public required long PoolPages { get; init; }

    /// <summary>Bytes of live values as stored (compressed or raw).</summary>
    public required long StoredCompressedBytes { get; init; }

    /// <summary>Bytes of live values as given by callers.</summary>
    public required long StoredOriginalBytes { get; init; }

    /// <summary>Original bytes over stored bytes of the live values; 1 when empty.</summary>
    public double CompressionRatio => StoredCompressedBytes == 0 ? 1 : (double)StoredOriginalBytes / StoredCompressedBytes;

    /// <summary>Managed bytes of the key index (its arrays), the cost per entry beside the pool.</summary>
    public required long IndexBytes { get; init; }

    /// <summary>Managed bytes of the pool's own bookkeeping (handle table, zspage descriptors).</summary>
    public required long PoolMetadataBytes { get; init; }

    /// <summary>Entries resident in the pool.</summary>
    public required long EntriesInPool { get; init; }

    /// <summary>Entries this instance wrote back and has not read back or removed since (an estimate: the tier may expire or evict them).</summary>
    public required long EntriesWrittenBack { get; init; }

    /// <summary>Reads served from the pool.</summary>
    public required long PoolHits { get; init; }

    /// <summary>Reads served by faulting in from the writeback tier.</summary>
    public required long WritebackHits { get; init; }

    /// <summary>Reads that found nothing.</summary>
    public required long Misses { get; init; }

    /// <summary>Fault-ins that came soon after the entry's writeback.</summary>
    public required long Refaults { get; init; }

    /// <summary>
    /// Entries dropped from the pool because another instance sharing the writeback tier set or
    /// removed their key (reported by the tier, see <see cref="Writeback.IZsWritebackTier.SubscribeToFences"/>).
    /// </summary>
    public long EntriesInvalidated { get; init; }

    /// <summary>Keys whose Remove or Set the writeback tier has not confirmed yet.</summary>
    public required long PendingFences { get; init; }

    /// <summary>The per-size-class table, as zsmalloc shows it in debugfs.</summary>
    public required IReadOnlyList<ZsSizeClassStatistics> Classes { get; init; }
}

/// <summary>One row of the size-class table.</summary>
/// <param name="Index">The class index.</param>
/// <param name="Size">The slot size of the class in bytes.</param>
/// <param name="ObjectsAllocated">Slots in the class's zspages.</param>
/// <param name="ObjectsUsed">Slots holding live objects.</param>
/// <param name="Zspages">Zspages of the class.</param>
/// <param name="PagesPerZspage">Pages in each of its zspages.</param>
/// <param name="Freeable">Pages compaction could give back.</param>
public sealed record ZsSizeClassStatistics(int Index, int Size, long ObjectsAllocated, long ObjectsUsed, long Zspages, int PagesPerZspage, long Freeable);
