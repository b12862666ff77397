using ZsCache.Testing.Redis;
using ZsCache.Writeback;

namespace ZsCache.Redis.Tests.Writeback;

/// <summary>Every command of the tier touches one key, so it works on Redis Cluster unchanged.</summary>
public sealed class RedisClusterTierTests(RedisClusterFixture cluster) : IClassFixture<RedisClusterFixture>
{
    [SkippableFact]
    public async Task Write_read_fence_and_refresh_work_across_the_slots_of_a_cluster()
    {
        cluster.SkipIfUnavailable();
        await using var h = await TierHarness.CreateAsync(cluster.ConnectionString);
        var now = DateTimeOffset.UtcNow;
        var items = Enumerable.Range(0, 48)
            .Select(i => TierHarness.Item($"c{i}", 5, data: BitConverter.GetBytes(i), sliding: TimeSpan.FromMinutes(10), ttl: TimeSpan.FromMinutes(1)))
            .ToArray();

        await h.Tier.WriteAsync(items, CancellationToken.None);

        Assert.All(items, i => Assert.Equal(ZsWritebackOutcome.Written, i.Outcome));
        var slots = items.Select(i => h.Direct.GetHashSlot(h.Key(i.Key))).ToHashSet();
        var config = h.Direct.GetServer(h.Direct.GetEndPoints()[0]).ClusterConfiguration!;
        Assert.Equal(3, slots.Select(s => config.GetBySlot(s)!.EndPoint).Distinct().Count());
        foreach (var item in items)
        {
            Assert.Equal(item.Data.ToArray(), (await h.Tier.ReadAsync(item.Key, now, CancellationToken.None))!.Data.ToArray());
        }

        Assert.True(await h.Tier.RefreshAsync("c1", now, CancellationToken.None));
        Assert.True(await h.Db.KeyTimeToLiveAsync(h.Key("c1")) > TimeSpan.FromMinutes(5));

        Assert.True(await h.Tier.FenceAsync("c2", 6, CancellationToken.None));
        Assert.Null(await h.Tier.ReadAsync("c2", now, CancellationToken.None));
        Assert.Equal(ZsWritebackOutcome.Superseded, await h.WriteOneAsync(TierHarness.Item("c2", 5)));
        Assert.Equal(ZsWritebackOutcome.Written, await h.WriteOneAsync(TierHarness.Item("c2", 6)));
    }
}
