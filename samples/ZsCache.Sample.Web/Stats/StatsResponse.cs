using ZsCache.Sample.Web.Writeback;

namespace ZsCache.Sample.Web.Stats;

/// <summary>The JSON of <c>/zscache/stats</c> (camelCase), which the stats page renders.</summary>
public sealed record StatsResponse(
    DateTimeOffset Time,
    TierStats Writeback,
    PoolStats Pool,
    EntryStats Entries,
    RequestStats Requests,
    WritebackStats Writebacks,
    EvictionStats Evictions,
    long CompactionMoved,
    long PendingFences,
    IReadOnlyList<ClassStats> Classes)
{
    public static StatsResponse Create(ZsCacheStatistics s, ZsCacheMeterTotals totals, WritebackTier tier, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(s);
        ArgumentNullException.ThrowIfNull(totals);
        ArgumentNullException.ThrowIfNull(tier);
        var classes = new List<ClassStats>(s.Classes.Count);
        foreach (var c in s.Classes)
        {
            classes.Add(new ClassStats(
                c.Index,
                c.Size,
                c.ObjectsAllocated,
                c.ObjectsUsed,
                c.Zspages,
                c.PagesPerZspage,
                c.Zspages * c.PagesPerZspage,
                c.ObjectsAllocated == 0 ? 0 : (double)c.ObjectsUsed / c.ObjectsAllocated,
                c.Freeable));
        }

        return new StatsResponse(
            now,
            new TierStats(tier.Kind, tier.Endpoint),
            new PoolStats(s.PoolBytes, s.PoolLimit, s.PoolPages, s.StoredCompressedBytes, s.StoredOriginalBytes, Math.Round(s.CompressionRatio, 3), s.IndexBytes),
            new EntryStats(s.EntriesInPool, s.EntriesWrittenBack),
            new RequestStats(s.PoolHits, s.WritebackHits, s.Misses),
            new WritebackStats(totals.WritebackObjects, totals.WritebackFailed, totals.WritebackBytes, s.WritebackHits, s.Refaults),
            new EvictionStats(totals.EvictedShrink, totals.EvictedExpired, totals.EvictedCapacity),
            totals.CompactionMoved,
            s.PendingFences,
            classes);
    }
}

/// <summary>Which writeback tier runs: <c>redis</c>, <c>embedded-garnet</c> or <c>none</c>.</summary>
public sealed record TierStats(string Kind, string? Endpoint);

/// <summary>The pool against its limit, and what it holds.</summary>
public sealed record PoolStats(long Bytes, long Limit, long Pages, long StoredCompressedBytes, long StoredOriginalBytes, double CompressionRatio, long IndexBytes);

/// <summary>Entries per tier.</summary>
public sealed record EntryStats(long Pool, long Writeback);

/// <summary>Reads: hits per tier and misses.</summary>
public sealed record RequestStats(long PoolHits, long WritebackHits, long Misses);

/// <summary>Objects written back (and failed), bytes written, fault-ins (reads served from the tier) and refaults.</summary>
public sealed record WritebackStats(long Objects, long Failed, long Bytes, long FaultIns, long Refaults);

/// <summary>Entries that left the pool without being written back, by reason.</summary>
public sealed record EvictionStats(long Shrink, long Expired, long Capacity);

/// <summary>One row of the size-class table, as zsmalloc's debugfs shows it.</summary>
public sealed record ClassStats(int Class, int Size, long ObjectsAllocated, long ObjectsUsed, long Zspages, int PagesPerZspage, long PagesUsed, double Fullness, long Freeable);
