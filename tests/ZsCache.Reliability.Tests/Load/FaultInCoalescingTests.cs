using Microsoft.Extensions.Caching.Distributed;
using ZsCache.Reliability.Tests.Support;
using ZsCache.Testing.Redis;

namespace ZsCache.Reliability.Tests.Load;

/// <summary>
/// Regression for a bug found by the load test (stale reads under 64 clients), pinned deterministically.
/// Concurrent readers of a written-back key share one fault-in (<c>_faultIns</c>). A reader that
/// begins after a <c>RemoveAsync</c> completed can join a fault-in that read Redis before the
/// remove's fence landed; by the time that fetch checks the local fences, the fence has been
/// confirmed and dropped from <c>_pendingFences</c>, so nothing stops the old value, and the
/// late reader got the removed value. Fixed: a Set or Remove detaches the key's in-flight fetch.
/// </summary>
public sealed class FaultInCoalescingTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    [Fact]
    public async Task A_read_that_begins_after_RemoveAsync_completed_never_returns_the_removed_value()
    {
        GatedTier? gate = null;
        await using var sut = CacheUnderTest.Create(
            redis.ConnectionString,
            o =>
            {
                o.MaxPoolBytes = 1024 * 1024;
                o.InstanceName = $"coalesce-{Guid.NewGuid():N}:";
            },
            decorate: inner => gate = new GatedTier(inner));
        var cache = sut.Cache;
        byte[] old = [1, 2, 3, 4, 5];
        await cache.SetAsync("k", old, new DistributedCacheEntryOptions());
        await cache.ReclaimAsync(1000);
        Assert.Equal(0, cache.GetStatistics().EntriesInPool);

        // 1. A first reader faults "k" in; its Redis read returns the old value and is held there.
        var held = gate!.HoldNextRead();
        var first = cache.GetAsync("k");
        await held.WaitAsync(TimeSpan.FromSeconds(30));

        // 2. The key is removed, and the tier confirms the fence before RemoveAsync returns.
        await cache.RemoveAsync("k");
        Assert.Equal(0, cache.GetStatistics().PendingFences);

        // 3. A reader that begins after the remove completed.
        var second = cache.GetAsync("k");
        gate.Release();

        // The first reader overlapped the remove: either answer is allowed for it.
        _ = await first.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Null(await second.WaitAsync(TimeSpan.FromSeconds(30)));
    }
}

/// <summary>
/// Regression for a bug found by the fault tests (stale reads after a synchronous Remove while connections were
/// dropped or Redis was full), pinned here deterministically. A fault-in checks the local fence
/// (<c>_pendingFences</c>) only after its Redis read returned. When the remove's fence lands in
/// Redis just after the read ran there, and is confirmed (and dropped from <c>_pendingFences</c>)
/// before the fault-in looks, neither guard sees the old value: Redis answered before the fence,
/// the local fence is already gone. A read that began after <c>Remove</c> returned then got the
/// removed value. Fixed: the fault-in takes the key's pending fence before the read.
/// </summary>
public sealed class FaultInFenceCheckTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    [Fact]
    public async Task A_read_that_begins_after_a_sync_Remove_returned_never_returns_the_removed_value()
    {
        GatedTier? gate = null;
        await using var sut = CacheUnderTest.Create(
            redis.ConnectionString,
            o =>
            {
                o.MaxPoolBytes = 1024 * 1024;
                o.InstanceName = $"fencecheck-{Guid.NewGuid():N}:";
            },
            decorate: inner => gate = new GatedTier(inner));
        var cache = sut.Cache;
        byte[] old = [1, 2, 3, 4, 5];
        await cache.SetAsync("k", old, new DistributedCacheEntryOptions());
        await cache.ReclaimAsync(1000);
        Assert.True(await Soak.Bounded.WaitAsync(() => cache.GetStatistics().PendingFences == 0, TimeSpan.FromSeconds(30)));

        // 1. Remove returns at once; its fence is held on its way to Redis.
        gate!.HoldFences();
        cache.Remove("k");
        Assert.Equal(1, cache.GetStatistics().PendingFences);

        // 2. A read that begins after Remove returned: Redis still holds the old value, and the
        //    read is held once it has it.
        var held = gate.HoldNextRead();
        var read = cache.GetAsync("k");
        await held.WaitAsync(TimeSpan.FromSeconds(30));

        // 3. The fence lands and is confirmed before the fault-in looks at the local fences.
        gate.ReleaseFences();
        Assert.True(await Soak.Bounded.WaitAsync(() => cache.GetStatistics().PendingFences == 0, TimeSpan.FromSeconds(30)));
        gate.Release();

        Assert.Null(await read.WaitAsync(TimeSpan.FromSeconds(30)));
    }
}
