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
    public string Figures() => Soak.Figures.Describe(Cache, Counters, Tier, Logs);

    public async ValueTask DisposeAsync()
    {
        Counters.Dispose();
        await Services.DisposeAsync();
    }
}
