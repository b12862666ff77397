using System.Diagnostics;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;
using Xunit.Abstractions;
using ZsCache.Testing.Redis;

namespace ZsCache.Redis.Tests.Integration;

/// <summary>The whole loop (pool, writeback, fault-in, fences, a second instance) on a three-master Redis Cluster.</summary>
public sealed class ClusterEndToEndTests(RedisClusterFixture cluster, ITestOutputHelper output) : IClassFixture<RedisClusterFixture>
{
    private const long Pool = 1024 * 1024;

    [SkippableFact]
    public async Task Filling_past_the_pool_on_a_cluster_writes_back_to_every_master_reads_back_fences_and_shares()
    {
        cluster.SkipIfUnavailable();
        var watch = Stopwatch.StartNew();
        var instance = $"cluster-{Guid.NewGuid():N}:";
        await using var provider = Caches.Build(cluster.ConnectionString, instance, Pool);
        var cache = provider.GetRequiredService<ZsDistributedCache>();
        await Caches.WarmUpAsync(cache);

        // Keys without hash tags: spread over the slots of all three masters.
        var total = 0L;
        var count = 0;
        while (total < 3 * Pool)
        {
            var value = Caches.Value(count, 16_000);
            await cache.SetAsync("k" + count, value, Caches.NoExpiry);
            total += value.Length;
            count++;
            Assert.True(cache.Pool.TotalBytes <= Pool);
        }

        await cache.ShrinkAsync();
        await Caches.DrainFencesAsync(cache, TimeSpan.FromSeconds(10));
        Assert.True(cache.GetStatistics().EntriesWrittenBack > 0, "values were written back");

        await using var direct = await ConnectionMultiplexer.ConnectAsync(cluster.ConnectionString);
        var db = direct.GetDatabase();
        var config = direct.GetServer(direct.GetEndPoints()[0]).ClusterConfiguration!;
        var written = new List<int>();
        var masters = new HashSet<string>();
        for (var i = 0; i < count; i++)
        {
            // Values, not fences: every Set fences older copies, so keys still in the pool have a tombstone there.
            RedisKey key = instance + "k" + i;
            var head = (byte[]?)await db.StringGetRangeAsync(key, 0, 15);
            if (head is { Length: 16 } && (head[3] & 1) == 0)
            {
                written.Add(i);
                masters.Add(config.GetBySlot(direct.GetHashSlot(key))!.EndPoint!.ToString()!);
            }
        }

        output.WriteLine($"{count} values, {total} bytes; {written.Count} written back to Redis, on {masters.Count} masters");
        Assert.Equal(3, masters.Count);

        // Everything reads back identical, from the pool or faulted in from whichever master.
        for (var i = 0; i < count; i++)
        {
            var back = await cache.GetAsync("k" + i);
            Assert.True(back is not null, $"k{i} is readable");
            Assert.Equal(Caches.Value(i, 16_000), back);
        }

        var stats = cache.GetStatistics();
        Assert.True(stats.WritebackHits > 0);
        Assert.Equal(0, stats.Misses);
        Assert.True(cache.Pool.TotalBytes <= Pool);

        // A Remove fences the key on its master: a tombstone of a newer version, kept for the fence lifetime.
        var victim = "k" + written[0];
        await cache.RemoveAsync(victim);
        var raw = (byte[]?)await db.StringGetAsync(instance + victim);
        Assert.NotNull(raw);
        Assert.Equal(40, raw.Length);
        Assert.Equal(1, raw[3] & 1);
        Assert.True(await db.KeyTimeToLiveAsync(instance + victim) > TimeSpan.FromSeconds(30));
        Assert.Null(await cache.GetAsync(victim));

        // A second instance reads what the first wrote back, and not what it removed.
        await using var second = Caches.Build(cluster.ConnectionString, instance, Pool);
        var other = second.GetRequiredService<IDistributedCache>();
        Assert.Null(await other.GetAsync(victim));
        foreach (var i in written.Skip(1))
        {
            Assert.Equal(Caches.Value(i, 16_000), await other.GetAsync("k" + i));
        }

        output.WriteLine($"total {watch.ElapsedMilliseconds} ms");
    }

    [SkippableFact]
    public async Task Sets_and_removes_on_one_instance_reach_the_other_instances_pool_from_every_master()
    {
        // The fence is published by the script on the key's master; Cluster carries PUBLISH to
        // every node, so the subscriber hears it whichever node it listens on.
        cluster.SkipIfUnavailable();
        output.WriteLine($"fences heard: {await CoherenceTests.SetsAndRemovesReachTheOtherPoolAsync(cluster.ConnectionString, keys: 24)}");
    }
}
