using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using ZsCache.Testing.Redis;

namespace ZsCache.Redis.Tests.Integration;

/// <summary>The whole loop against a real server: pool, reclaim to Redis, fault-in.</summary>
public sealed class EndToEndTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    private static ServiceProvider Build(string connection, string instance, long poolBytes, TimeProvider? time = null)
    {
        var services = new ServiceCollection();
        if (time is not null)
        {
            services.AddSingleton(time);
        }

        services.AddZsCache(o =>
        {
            o.MaxPoolBytes = poolBytes;
            o.InstanceName = instance;
        }).AddRedisWriteback(r => r.Configuration = connection);
        return services.BuildServiceProvider();
    }

    private static byte[] Value(int i)
    {
        var random = new Random(i);
        var size = 200 + random.Next(8000);
        var text = new System.Text.StringBuilder(size + 100);
        while (text.Length < size)
        {
            text.Append("{\"id\":").Append(i).Append(",\"name\":\"item ").Append(random.Next(1000)).Append("\",\"tags\":[\"a\",\"b\"]},");
        }

        return System.Text.Encoding.UTF8.GetBytes(text.ToString());
    }

    [Fact]
    public async Task Filling_several_times_past_the_pool_reads_everything_back_identical()
    {
        const long pool = 2L * 1024 * 1024;
        var instance = $"e2e-{Guid.NewGuid():N}:";
        await using var provider = Build(redis.ConnectionString, instance, pool);
        var cache = provider.GetRequiredService<ZsDistributedCache>();
        var total = 0L;
        var count = 0;
        while (total < 5 * pool)
        {
            var value = Value(count);
            await cache.SetAsync("k" + count, value, new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromHours(1) });
            total += value.Length;
            count++;
            Assert.True(cache.Pool.TotalBytes <= pool);
        }

        await cache.ShrinkAsync();
        var stats = cache.GetStatistics();
        Assert.True(stats.EntriesWrittenBack > 0, "values were written back to Redis");

        for (var i = 0; i < count; i++)
        {
            var back = await cache.GetAsync("k" + i);
            Assert.True(back is not null, $"k{i} is readable from one tier or the other");
            Assert.Equal(Value(i), back);
        }

        stats = cache.GetStatistics();
        Assert.True(stats.WritebackHits > 0);
        Assert.Equal(0, stats.Misses);
        Assert.True(cache.Pool.TotalBytes <= pool);
    }

    [Fact]
    public async Task A_second_instance_reads_what_the_first_wrote_back()
    {
        var instance = $"shared-{Guid.NewGuid():N}:";
        await using var first = Build(redis.ConnectionString, instance, 1024 * 1024);
        await using var second = Build(redis.ConnectionString, instance, 1024 * 1024);
        var a = first.GetRequiredService<ZsDistributedCache>();
        var b = second.GetRequiredService<IDistributedCache>();

        var value = Value(42);
        await a.SetAsync("shared", value, new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(5) });
        await a.ReclaimAsync(1000);
        Assert.Equal(value, await b.GetAsync("shared"));

        // A Remove on the first instance fences the copy in Redis for every instance.
        await a.RemoveAsync("shared");
        await using var third = Build(redis.ConnectionString, instance, 1024 * 1024);
        Assert.Null(await third.GetRequiredService<IDistributedCache>().GetAsync("shared"));
    }

    [Fact]
    public async Task Expiration_is_kept_through_redis()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var instance = $"exp-{Guid.NewGuid():N}:";
        await using var provider = Build(redis.ConnectionString, instance, 1024 * 1024, time);
        var cache = provider.GetRequiredService<ZsDistributedCache>();
        await cache.SetAsync("k", [1, 2, 3], new DistributedCacheEntryOptions { AbsoluteExpiration = time.GetUtcNow().AddMinutes(10) });
        await cache.ReclaimAsync(1000);
        var ttl = await redis.ExecuteAsync("PTTL", instance + "k");
        Assert.InRange(long.Parse(ttl!, System.Globalization.CultureInfo.InvariantCulture), 1, (long)TimeSpan.FromMinutes(10).TotalMilliseconds);

        time.Advance(TimeSpan.FromMinutes(11));
        Assert.Null(await cache.GetAsync("k")); // the header's absolute expiration is checked even if the TTL has not run out
    }
}
