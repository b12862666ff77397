using Microsoft.Extensions.Caching.Distributed;

namespace ZsCache.Tests.Cache;

public class CapacityTests
{
    [Fact]
    public async Task Filling_far_past_the_limit_never_passes_it_and_the_cache_keeps_answering()
    {
        const long limit = 2L * 1024 * 1024;
        using var cache = CacheFactory.Create(configure: o => o.MaxPoolBytes = limit);
        long peak = 0;
        var written = 0L;
        for (var i = 0; written < 10 * limit; i++)
        {
            var value = CacheFactory.JsonLike(i, 200 + (i * 37 % 6000));
            written += value.Length;
            await cache.SetAsync("k" + i, value, new DistributedCacheEntryOptions());
            peak = Math.Max(peak, cache.Pool.TotalBytes);
            if (i % 50 == 0)
            {
                // The newest value is there (or was dropped, never corrupted) and the pool holds.
                var back = await cache.GetAsync("k" + i);
                Assert.True(back is null || back.AsSpan().SequenceEqual(value));
            }
        }

        await cache.ShrinkAsync();
        var stats = cache.GetStatistics();
        Assert.True(peak <= limit, $"peak {peak} > limit {limit}");
        Assert.True(stats.PoolBytes <= limit);
        Assert.True(stats.EntriesInPool > 0);
        Assert.True(stats.PoolBytes <= limit * 8 / 10 + (64 * 1024), $"the shrinker brings the pool to its low watermark: {stats.PoolBytes}");
    }

    [Fact]
    public async Task A_store_needing_a_large_zspage_fits_a_pool_full_of_one_page_zspages()
    {
        // Regression: inline reclaim gave up after four zspages. With the LRU tail made of
        // one-page zspages of small objects, four pages never fit a fresh fifteen-page zspage,
        // and the value was dropped although the pool could have made room.
        const long limit = ZsCacheOptions.MinPoolBytes;
        using var cache = CacheFactory.Create(configure: o =>
        {
            o.MaxPoolBytes = limit;
            o.Compression = ZsCompression.None;
        });
        using (cache.PauseShrinker())
        {
            var random = new Random(7);
            var small = new byte[20];
            for (var i = 0; i < 2 * limit / 32; i++)
            {
                random.NextBytes(small);
                await cache.SetAsync($"s{i:D5}", small, new DistributedCacheEntryOptions());
            }

            Assert.True(cache.Pool.TotalBytes > limit - (16 * 4096), "the pool is full of small objects");
            var large = new byte[60_000];
            random.NextBytes(large);
            await cache.SetAsync("large", large, new DistributedCacheEntryOptions());
            Assert.Equal(large, await cache.GetAsync("large"));
            Assert.True(cache.Pool.TotalBytes <= limit);
        }
    }
}
