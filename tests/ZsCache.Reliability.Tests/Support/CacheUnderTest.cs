using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ZsCache.Redis;
using ZsCache.Redis.Internal;
using ZsCache.Soak;
using ZsCache.Writeback;

namespace ZsCache.Reliability.Tests.Support;

/// <summary>
/// A cache built the way an app builds it (<c>AddZsCache(...).AddRedisWriteback(...)</c>), with
/// the tier wrapped in a <see cref="CountingTier"/>, its meter listened to and its logs counted.
/// </summary>
internal sealed class CacheUnderTest : IAsyncDisposable
{
    private CacheUnderTest(ServiceProvider services, CountingLoggerProvider logs)
    {
        Services = services;
        Logs = logs;
        Cache = services.GetRequiredService<ZsDistributedCache>();
        Tier = services.GetService<CountingTier>();
        Counters = new CacheCounters(Cache.Meter);
    }

    public ServiceProvider Services { get; }

    public ZsDistributedCache Cache { get; }

    /// <summary>Null when built without a tier.</summary>
    public CountingTier? Tier { get; }

    public CacheCounters Counters { get; }

    public CountingLoggerProvider Logs { get; }

    public static CacheUnderTest Create(
        string? redis,
        Action<ZsCacheOptions> configure,
        TimeProvider? time = null,
        Action<ZsRedisOptions>? tune = null,
        Func<IZsWritebackTier, IZsWritebackTier>? decorate = null,
        params string[] forbiddenInLogs)
    {
        var logs = new CountingLoggerProvider(forbiddenInLogs);
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Information));
        if (time is not null)
        {
            services.AddSingleton(time);
        }

        var builder = services.AddZsCache(configure);
        if (redis is not null)
        {
            builder.AddRedisWriteback(r =>
            {
                r.Configuration = redis;
                tune?.Invoke(r);
            });

            // The last registration wins: the cache talks to the counting decorator.
            services.AddSingleton(sp =>
            {
                IZsWritebackTier redisTier = sp.GetRequiredService<RedisWritebackTier>();
                return new CountingTier(decorate is null ? redisTier : decorate(redisTier));
            });
            services.AddSingleton<IZsWritebackTier>(sp => sp.GetRequiredService<CountingTier>());
        }

        return new CacheUnderTest(services.BuildServiceProvider(), logs);
    }

    /// <summary>The figures a fault test records, one line each.</summary>
    public string Figures()
    {
        var s = Cache.GetStatistics();
        var tier = Tier;
        return string.Join(Environment.NewLine,
            $"values dropped     {Counters.Dropped:N0} (shrink while the tier was down {Counters.DroppedByShrink:N0}, stores neither tier took {Counters.DroppedAtCapacity:N0}); expired {Counters.Expired:N0}",
            tier is null ? "tier               none" :
            $"writeback          written {tier.Written:N0}, superseded {tier.Superseded:N0}, failed {tier.Failed:N0}, retries {tier.Retries:N0} (objects handed to the tier again after a failure)",
            tier is null ? "" :
            $"tier calls         reads {tier.Reads:N0} ({tier.ReadValues:N0} values), fences {tier.Fences:N0} ({tier.FencesFailed:N0} unconfirmed), refreshes {tier.Refreshes:N0}",
            $"cache              pool hits {s.PoolHits:N0}, writeback hits {s.WritebackHits:N0}, misses {s.Misses:N0}, refaults {s.Refaults:N0}, entries {s.EntriesInPool:N0} in pool / {s.EntriesWrittenBack:N0} written back, pending fences {s.PendingFences:N0}",
            $"log events         {string.Join(", ", Logs.ByEvent.OrderBy(p => p.Key).Select(p => $"#{p.Key}: {p.Value}"))}");
    }

    public async ValueTask DisposeAsync()
    {
        Counters.Dispose();
        await Services.DisposeAsync();
    }
}
