using System.Globalization;

namespace ZsCache.Soak;

/// <summary>The figures a run records about the cache and its tier, one line each.</summary>
internal static class Figures
{
    public static string Describe(ZsDistributedCache cache, CacheCounters counters, CountingTier? tier, CountingLoggerProvider logs)
    {
        var s = cache.GetStatistics();
        var c = CultureInfo.InvariantCulture;
        var lines = new List<string>
        {
            string.Create(c, $"values dropped     {counters.Dropped:N0} (shrink while the tier was down {counters.DroppedByShrink:N0}, stores neither tier took {counters.DroppedAtCapacity:N0}); expired {counters.Expired:N0}"),
        };
        if (tier is not null)
        {
            lines.Add(string.Create(c, $"writeback          written {tier.Written:N0}, superseded {tier.Superseded:N0}, failed {tier.Failed:N0}, retries {tier.Retries:N0} (objects handed to the tier again after a failure)"));
            lines.Add(string.Create(c, $"tier calls         reads {tier.Reads:N0} ({tier.ReadValues:N0} values), fences {tier.Fences:N0} ({tier.FencesFailed:N0} unconfirmed), refreshes {tier.Refreshes:N0}"));
        }

        lines.Add(string.Create(c, $"cache              pool hits {s.PoolHits:N0}, writeback hits {s.WritebackHits:N0}, misses {s.Misses:N0}, refaults {s.Refaults:N0}, entries {s.EntriesInPool:N0} in pool / {s.EntriesWrittenBack:N0} written back, pending fences {s.PendingFences:N0}"));
        lines.Add($"log events         {string.Join(", ", logs.ByEvent.OrderBy(p => p.Key).Select(p => string.Create(c, $"#{p.Key}: {p.Value}")))}");
        return string.Join(Environment.NewLine, lines);
    }
}
