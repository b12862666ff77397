using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using ZsCache.Redis.Internal;
using ZsCache.Testing.Logging;
using ZsCache.Writeback;

namespace ZsCache.Redis.Tests.Writeback;

/// <summary>Stands in for <c>AddZsCache</c>'s builder, which belongs to the cache.</summary>
internal sealed class TestCacheBuilder(IServiceCollection services) : IZsCacheBuilder
{
    public IServiceCollection Services { get; } = services;
}

/// <summary>
/// A <see cref="RedisWritebackTier"/> built through <c>AddRedisWriteback</c>, its collected logs,
/// and a separate multiplexer to look at (and plant) raw keys.
/// </summary>
internal sealed class TierHarness : IAsyncDisposable
{
    private TierHarness(ServiceProvider services, CollectingLoggerProvider logs, ConnectionMultiplexer direct, string prefix)
    {
        Services = services;
        Logs = logs;
        Direct = direct;
        Prefix = prefix;
        Tier = (RedisWritebackTier)services.GetRequiredService<IZsWritebackTier>();
    }

    public ServiceProvider Services { get; }

    public RedisWritebackTier Tier { get; }

    public CollectingLoggerProvider Logs { get; }

    /// <summary>A multiplexer of the test's own, to inspect keys behind the tier's back.</summary>
    public ConnectionMultiplexer Direct { get; }

    public IDatabase Db => Direct.GetDatabase();

    /// <summary>The instance name (unique per harness, so tests sharing a server do not meet).</summary>
    public string Prefix { get; }

    public static async Task<TierHarness> CreateAsync(string configuration, Action<ZsRedisOptions>? tune = null, long maxValueBytes = 16L * 1024 * 1024)
    {
        var prefix = $"t{Guid.NewGuid():N}:";
        var logs = new CollectingLoggerProvider();
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Debug));
        services.Configure<ZsCacheOptions>(o =>
        {
            o.InstanceName = prefix;
            o.MaxValueBytes = maxValueBytes;
        });
        new TestCacheBuilder(services).AddRedisWriteback(o =>
        {
            o.Configuration = configuration;
            tune?.Invoke(o);
        });
        var provider = services.BuildServiceProvider();
        var directOptions = ConfigurationOptions.Parse(configuration);
        directOptions.AbortOnConnectFail = false;
        var direct = await ConnectionMultiplexer.ConnectAsync(directOptions);
        return new TierHarness(provider, logs, direct, prefix);
    }

    public RedisKey Key(string key) => Prefix + key;

    public IReadOnlyList<LogRecord> Warnings(int eventId) =>
        Logs.Records.Where(r => r.EventId.Id == eventId && r.Level == LogLevel.Warning).ToArray();

    public static ZsWritebackItem Item(
        string key,
        long version,
        byte[]? data = null,
        TimeSpan? ttl = null,
        DateTimeOffset? absolute = null,
        TimeSpan? sliding = null,
        ZsCodec codec = ZsCodec.Raw,
        int? originalLength = null,
        byte dictionary = 0)
    {
        data ??= [1, 2, 3];
        return new ZsWritebackItem
        {
            Key = key,
            Version = version,
            Codec = codec,
            DictionaryId = dictionary,
            OriginalLength = originalLength ?? data.Length,
            Data = data,
            AbsoluteExpiration = absolute,
            SlidingExpiration = sliding,
            TimeToLive = ttl ?? TimeSpan.FromMinutes(5),
        };
    }

    public async Task<ZsWritebackOutcome> WriteOneAsync(ZsWritebackItem item)
    {
        await Tier.WriteAsync([item], CancellationToken.None);
        return item.Outcome;
    }

    /// <summary>
    /// Polls <paramref name="condition"/> until it holds or <paramref name="bound"/> passes (then
    /// fails). For states reached on the real clock (a circuit's break duration, a reconnect):
    /// the state is checked, never assumed after a sleep.
    /// </summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, TimeSpan bound, string what)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(watch.Elapsed < bound, $"Not within {bound}: {what}");
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        await Direct.DisposeAsync();
    }
}
