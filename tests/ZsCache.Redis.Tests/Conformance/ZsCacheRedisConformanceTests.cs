using System.Buffers;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using ZsCache.Testing.Conformance;
using ZsCache.Testing.Redis;

namespace ZsCache.Redis.Tests.Conformance;

/// <summary>
/// ZsCache with its Redis writeback tier, every value pushed out to a real redis-server right
/// after it is stored: each read of a test is a fault-in (or a hit on the copy a fault-in
/// admitted), each expiry is judged from the payload header by the cache's own fake clock, each
/// Refresh and sliding renewal reaches Redis. The same semantic tests as every peer.
/// </summary>
public sealed class ZsCacheRedisConformanceTests : ExpiringDistributedCacheConformanceTests, IClassFixture<RedisServerFixture>
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly WrittenBackCache _cache;

    public ZsCacheRedisConformanceTests(RedisServerFixture server)
    {
        ArgumentNullException.ThrowIfNull(server);
        _cache = WrittenBackCache.Create(server.ConnectionString, _time);
    }

    protected override IDistributedCache Cache => _cache;

    protected override FakeTimeProvider FakeTime => _time;

    // Expiry judged from the payload header (absolute, bounded sliding) follows the fake clock;
    // an idle sliding value's deadline is its Redis TTL (RedisWritebackTierTests checks those).
    protected override bool IdleSlidingExpiryFollowsTheFakeClock => false;
}

/// <summary>ZsCache's <see cref="IBufferDistributedCache"/> with every value in Redis before it is read.</summary>
public sealed class ZsCacheRedisBufferConformanceTests : BufferDistributedCacheConformanceTests, IClassFixture<RedisServerFixture>
{
    private readonly WrittenBackCache _cache;

    public ZsCacheRedisBufferConformanceTests(RedisServerFixture server)
    {
        ArgumentNullException.ThrowIfNull(server);

        // The buffer base reads the real clock, so this cache does too.
        _cache = WrittenBackCache.Create(server.ConnectionString, TimeProvider.System);
    }

    protected override IBufferDistributedCache Cache => _cache;
}

/// <summary>A ZsCache that writes its whole pool back to Redis after every store.</summary>
internal sealed class WrittenBackCache : IBufferDistributedCache, IDisposable
{
    private readonly ServiceProvider _provider;
    private readonly ZsDistributedCache _cache;

    private WrittenBackCache(ServiceProvider provider)
    {
        _provider = provider;
        _cache = provider.GetRequiredService<ZsDistributedCache>();
    }

    public static WrittenBackCache Create(string configuration, TimeProvider time)
    {
        var services = new ServiceCollection();
        services.AddSingleton(time);
        services.AddZsCache(o =>
        {
            o.MaxPoolBytes = 8L * 1024 * 1024;
            o.InstanceName = $"conformance-zs-{Guid.NewGuid():N}:";

            // A zspage at a time, no second chances: one reclaim pass empties the pool.
            o.WritebackPolicy = ZsWritebackPolicy.ZspageLru;
        }).AddRedisWriteback(r =>
        {
            r.Configuration = configuration;

            // A loaded machine's first connect and script load can outlast the default attempt.
            r.AttemptTimeout = TimeSpan.FromSeconds(5);
            r.TotalTimeout = TimeSpan.FromSeconds(15);
        });
        return new WrittenBackCache(services.BuildServiceProvider());
    }

    private async Task PushOutAsync()
    {
        for (var round = 0; round < 10 && _cache.GetStatistics().EntriesInPool > 0; round++)
        {
            await _cache.ReclaimAsync(10_000);
        }

        Assert.Equal(0, _cache.GetStatistics().EntriesInPool);
    }

    public byte[]? Get(string key) => _cache.Get(key);

    public Task<byte[]?> GetAsync(string key, CancellationToken token = default) => _cache.GetAsync(key, token);

    public void Set(string key, byte[] value, DistributedCacheEntryOptions options)
    {
        _cache.Set(key, value, options);
        PushOutAsync().GetAwaiter().GetResult();
    }

    public async Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
    {
        await _cache.SetAsync(key, value, options, token);
        await PushOutAsync();
    }

    public void Refresh(string key) => _cache.Refresh(key);

    public Task RefreshAsync(string key, CancellationToken token = default) => _cache.RefreshAsync(key, token);

    public void Remove(string key) => _cache.Remove(key);

    public Task RemoveAsync(string key, CancellationToken token = default) => _cache.RemoveAsync(key, token);

    public bool TryGet(string key, IBufferWriter<byte> destination) => _cache.TryGet(key, destination);

    public ValueTask<bool> TryGetAsync(string key, IBufferWriter<byte> destination, CancellationToken token = default) => _cache.TryGetAsync(key, destination, token);

    public void Set(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options)
    {
        _cache.Set(key, value, options);
        PushOutAsync().GetAwaiter().GetResult();
    }

    public async ValueTask SetAsync(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options, CancellationToken token = default)
    {
        await _cache.SetAsync(key, value, options, token);
        await PushOutAsync();
    }

    public void Dispose() => _provider.Dispose();
}
