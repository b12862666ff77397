using System.Reflection;

namespace ZsCache.Sample.Web.Stats;

/// <summary><c>/zscache</c> (a page that refreshes itself) and <c>/zscache/stats</c> (its JSON).</summary>
internal static class StatsEndpoints
{
    private static readonly Lazy<string> Page = new(() =>
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("ZsCache.Sample.Web.Stats.zscache.html")
            ?? throw new InvalidOperationException("The stats page is missing from the assembly's resources.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    public static void MapZsCacheStats(this WebApplication app)
    {
        app.MapGet("/zscache", () => Results.Content(Page.Value, "text/html; charset=utf-8"));
        app.MapGet("/zscache/stats", (ZsDistributedCache cache, ZsCacheMeterTotals totals, Writeback.WritebackTier tier) =>
            Results.Json(StatsResponse.Create(cache.GetStatistics(), totals, tier, TimeProvider.System.GetUtcNow())));
    }
}
