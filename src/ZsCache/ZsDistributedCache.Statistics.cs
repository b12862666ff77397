namespace ZsCache;

/// <content>The statistics snapshot.</content>
public sealed partial class ZsDistributedCache
{
    /// <summary>A snapshot of the pool, the tiers, the traffic and the per-class table.</summary>
    /// <returns>Figures taken one after another, without stopping the cache: consistent enough for a dashboard.</returns>
    public ZsCacheStatistics GetStatistics()
    {
        ThrowIfDisposed();
        var pool = _pool.GetStatistics();
        long indexBytes = 0;
        foreach (var shard in _shards)
        {
            lock (shard.Lock)
            {
                indexBytes += shard.ManagedBytes;
            }
        }

        var classes = new ZsSizeClassStatistics[pool.Classes.Count];
        for (var i = 0; i < classes.Length; i++)
        {
            var c = pool.Classes[i];
            classes[i] = new ZsSizeClassStatistics(c.Index, c.Size, c.ObjectsAllocated, c.ObjectsUsed, c.Zspages, c.PagesPerZspage, c.FreeablePages);
        }

        return new ZsCacheStatistics
        {
            PoolBytes = pool.TotalBytes,
            PoolLimit = _options.MaxPoolBytes,
            PoolPages = pool.Pages,
            StoredCompressedBytes = Volatile.Read(ref _storedCompressed),
            StoredOriginalBytes = Volatile.Read(ref _storedOriginal),
            IndexBytes = indexBytes,
            PoolMetadataBytes = pool.MetadataBytes,
            EntriesInPool = Volatile.Read(ref _entries),
            EntriesWrittenBack = Math.Max(0, Volatile.Read(ref _writtenBack)),
            PoolHits = Volatile.Read(ref _hitsPool),
            WritebackHits = Volatile.Read(ref _hitsWriteback),
            Misses = Volatile.Read(ref _misses),
            Refaults = Volatile.Read(ref _refaults),
            EntriesInvalidated = Volatile.Read(ref _invalidated),
            PendingFences = _pendingFences.Count,
            Classes = classes,
        };
    }
}
