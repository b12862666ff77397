using System.Globalization;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using Xunit.Abstractions;
using ZsCache.Testing.Logging;
using ZsCache.Testing.Redis;

namespace ZsCache.Redis.Tests.Integration;

/// <summary>
/// The writeback loop on the embedded Garnet server, whatever else is installed: the sample app
/// and the test fixtures fall back to Garnet, and it refuses what redis-server lets pass (a
/// <c>SET ... PX</c> past <see cref="long.MaxValue"/> ticks, a <c>PEXPIRE</c> past 9999-12-31).
/// </summary>
public sealed class GarnetEndToEndTests(GarnetServerFixture garnet, ITestOutputHelper output) : IClassFixture<GarnetServerFixture>
{
    private const long Pool = 2L * 1024 * 1024;

    [Fact]
    public async Task Filling_past_the_pool_writes_back_and_reads_everything_back_identical_with_every_kind_of_expiry()
    {
        Assert.Equal(RedisServerKind.Garnet, garnet.Kind);
        var instance = $"garnet-{Guid.NewGuid():N}:";
        var logs = new CollectingLoggerProvider();
        await using var provider = Caches.Build(garnet.ConnectionString, instance, Pool, Caches.Patient, logs: logs);
        var cache = provider.GetRequiredService<ZsDistributedCache>();
        await Caches.WarmUpAsync(cache);

        var total = 0L;
        var count = 0;
        while (total < 5 * Pool)
        {
            var value = Caches.Value(count);
            await cache.SetAsync(Key(count), value, Expiry(count));
            total += value.Length;
            count++;
            Assert.True(cache.Pool.TotalBytes <= Pool);
        }

        await cache.ShrinkAsync();
        for (var round = 0; round < 20 && cache.GetStatistics().EntriesInPool > count / 2; round++)
        {
            await cache.ReclaimAsync(64);
        }

        var stats = cache.GetStatistics();
        output.WriteLine($"{count} values, {total:N0} bytes; written back {stats.EntriesWrittenBack}, in pool {stats.EntriesInPool}");
        Assert.True(stats.EntriesWrittenBack > count / 2, "most values were written back to Garnet");
        Assert.Empty(Failures(logs));

        // Each kind of expiry reached Garnet as it should: none persists, the others carry a TTL.
        await using var direct = await ConnectionMultiplexer.ConnectAsync(garnet.ConnectionString);
        var db = direct.GetDatabase();
        var seen = new HashSet<int>();
        for (var i = 0; i < count && seen.Count < 3; i++)
        {
            if (!await db.KeyExistsAsync(instance + Key(i)) || !seen.Add(i % 3))
            {
                continue;
            }

            var ttl = await db.KeyTimeToLiveAsync(instance + Key(i));
            switch (i % 3)
            {
                case 0:
                    Assert.Null(ttl);
                    break;
                case 1:
                    Assert.InRange(ttl!.Value, TimeSpan.FromMinutes(50), TimeSpan.FromHours(1));
                    break;
                default:
                    Assert.InRange(ttl!.Value, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(10));
                    break;
            }
        }

        Assert.Equal(3, seen.Count);

        for (var i = 0; i < count; i++)
        {
            var back = await cache.GetAsync(Key(i));
            Assert.True(back is not null, $"{Key(i)} reads back from one tier or the other");
            Assert.Equal(Caches.Value(i), back);
        }

        stats = cache.GetStatistics();
        Assert.True(stats.WritebackHits > 0);
        Assert.Equal(0, stats.Misses);
        Assert.Empty(Failures(logs));

        // A fresh instance sees what was written back (everything, after a full writeback).
        for (var round = 0; round < 40 && cache.GetStatistics().EntriesInPool > 0; round++)
        {
            await cache.ReclaimAsync(1024);
        }

        Assert.Equal(0, cache.GetStatistics().EntriesInPool);
        await using var second = Caches.Build(garnet.ConnectionString, instance, Pool, Caches.Patient);
        var other = second.GetRequiredService<IDistributedCache>();
        for (var i = 0; i < count; i += 7)
        {
            Assert.Equal(Caches.Value(i), await other.GetAsync(Key(i)));
        }
    }

    [Fact]
    public async Task A_remove_after_writeback_reads_as_a_miss_here_and_on_a_fresh_instance()
    {
        var instance = $"garnet-rm-{Guid.NewGuid():N}:";
        var logs = new CollectingLoggerProvider();
        await using var provider = Caches.Build(garnet.ConnectionString, instance, Pool, Caches.Patient, logs: logs);
        var cache = provider.GetRequiredService<ZsDistributedCache>();
        await Caches.WarmUpAsync(cache);
        for (var i = 0; i < 30; i++)
        {
            await cache.SetAsync(Key(i), Caches.Value(i), Expiry(i));
        }

        await cache.ReclaimAsync(1024);
        Assert.Equal(0, cache.GetStatistics().EntriesInPool);

        for (var i = 0; i < 30; i += 2)
        {
            await cache.RemoveAsync(Key(i));
        }

        await Caches.DrainFencesAsync(cache, TimeSpan.FromSeconds(10));
        await using var fresh = Caches.Build(garnet.ConnectionString, instance, Pool, Caches.Patient);
        var other = fresh.GetRequiredService<IDistributedCache>();
        for (var i = 0; i < 30; i++)
        {
            var expected = i % 2 == 0 ? null : Caches.Value(i);
            Assert.Equal(expected, await cache.GetAsync(Key(i)));
            Assert.Equal(expected, await other.GetAsync(Key(i)));
        }

        // A Set after the Remove replaces the fence, without expiry too.
        await cache.SetAsync(Key(0), [1, 2, 3], Caches.NoExpiry);
        await cache.ReclaimAsync(1024);
        Assert.Equal(new byte[] { 1, 2, 3 }, await other.GetAsync(Key(0)));
        Assert.Empty(Failures(logs));
    }

    [Fact]
    public async Task Expirations_beyond_what_garnet_accepts_are_clamped_not_refused()
    {
        var instance = $"garnet-far-{Guid.NewGuid():N}:";
        var logs = new CollectingLoggerProvider();
        await using var provider = Caches.Build(garnet.ConnectionString, instance, Pool, Caches.Patient, logs: logs);
        var cache = provider.GetRequiredService<ZsDistributedCache>();
        await Caches.WarmUpAsync(cache);

        // The last day DateTimeOffset can hold, and a sliding window of 500 years: Garnet refuses
        // a SET PX or PEXPIRE that long; the tier asks for at most 100 years.
        var far = DateTimeOffset.MaxValue.AddDays(-1);
        await cache.SetAsync("far", [1], new DistributedCacheEntryOptions { AbsoluteExpiration = far });
        await cache.SetAsync("long-slide", [2], new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromDays(500 * 365) });
        await cache.ReclaimAsync(1024);
        Assert.Equal(0, cache.GetStatistics().EntriesInPool);

        await using var direct = await ConnectionMultiplexer.ConnectAsync(garnet.ConnectionString);
        var db = direct.GetDatabase();
        foreach (var key in new[] { "far", "long-slide" })
        {
            var ttl = await db.KeyTimeToLiveAsync(instance + key);
            output.WriteLine($"{key}: PTTL {ttl?.TotalDays.ToString("F0", CultureInfo.InvariantCulture)} days");
            Assert.InRange(ttl!.Value, TimeSpan.FromDays(36_000), TimeSpan.FromDays(36_525));
        }

        // Reading the sliding one renews it (PEXPIRE), and so does Refresh once it is back in Redis.
        Assert.Equal(new byte[] { 1 }, await cache.GetAsync("far"));
        Assert.Equal(new byte[] { 2 }, await cache.GetAsync("long-slide"));
        await cache.ReclaimAsync(1024);
        await cache.RefreshAsync("long-slide");
        Assert.Equal(new byte[] { 2 }, await cache.GetAsync("long-slide"));
        Assert.Empty(Failures(logs));
    }

    private static string Key(int i) => "g" + i.ToString(CultureInfo.InvariantCulture);

    private static DistributedCacheEntryOptions Expiry(int i) => (i % 3) switch
    {
        0 => Caches.NoExpiry,
        1 => new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromHours(1) },
        _ => new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(10) },
    };

    /// <summary>Every warning or error logged: a write, read, fence or refresh Garnet refused shows up here.</summary>
    private static LogRecord[] Failures(CollectingLoggerProvider logs) =>
        logs.Records.Where(r => r.Level >= LogLevel.Warning).ToArray();

    [Fact]
    public async Task Sets_and_removes_on_one_instance_reach_the_other_instances_pool_through_garnet()
    {
        // The sample runs on Garnet: the fence script's PUBLISH must work there too.
        Assert.Equal(RedisServerKind.Garnet, garnet.Kind);
        output.WriteLine($"fences heard: {await CoherenceTests.SetsAndRemovesReachTheOtherPoolAsync(garnet.ConnectionString)}");
    }
}
