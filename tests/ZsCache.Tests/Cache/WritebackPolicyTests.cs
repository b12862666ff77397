using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Time.Testing;

namespace ZsCache.Tests.Cache;

/// <summary>The order in which each <see cref="ZsWritebackPolicy"/> gives entries up.</summary>
public class WritebackPolicyTests
{
    private static readonly DistributedCacheEntryOptions NoExpiry = new();

    private static (ZsDistributedCache Cache, InMemoryTier Tier) Create(ZsWritebackPolicy policy)
    {
        var tier = new InMemoryTier();
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        return (CacheFactory.Create(time, o => o.WritebackPolicy = policy, tier), tier);
    }

    private static bool WrittenBack(InMemoryTier tier, string key) => tier.Contents.TryGetValue(key, out var s) && !s.IsFence;

    [Fact]
    public async Task ZspageLru_writes_back_the_whole_tail_zspage_hot_or_cold()
    {
        var (cache, tier) = Create(ZsWritebackPolicy.ZspageLru);
        using var _c = cache;
        foreach (var key in new[] { "a", "b", "c" })
        {
            cache.Set(key, [1, 2, 3], NoExpiry); // same size class, same zspage
        }

        Assert.NotNull(cache.Get("b"));
        await cache.ReclaimAsync(1);

        Assert.True(WrittenBack(tier, "a"));
        Assert.True(WrittenBack(tier, "b"));
        Assert.True(WrittenBack(tier, "c"));
        Assert.Equal(0, cache.GetStatistics().EntriesInPool);
    }

    [Fact]
    public async Task EntryClock_gives_referenced_entries_a_second_chance()
    {
        var (cache, tier) = Create(ZsWritebackPolicy.EntryClock);
        using var _c = cache;
        foreach (var key in new[] { "a", "b", "c" })
        {
            cache.Set(key, [1, 2, 3], NoExpiry);
        }

        // New entries start referenced, as zswap's do: the first pass only clears the bits.
        await cache.ReclaimAsync(1);
        Assert.DoesNotContain(tier.Contents, c => !c.Value.IsFence);
        Assert.Equal(3, cache.GetStatistics().EntriesInPool);

        Assert.NotNull(cache.Get("b"));
        await cache.ReclaimAsync(1);

        Assert.True(WrittenBack(tier, "a"));
        Assert.False(WrittenBack(tier, "b"));
        Assert.True(WrittenBack(tier, "c"));
        Assert.Equal(1, cache.GetStatistics().EntriesInPool);

        await cache.ReclaimAsync(1);
        Assert.True(WrittenBack(tier, "b"));
    }

    [Fact]
    public async Task EntryClock_counts_refresh_as_a_reference()
    {
        var (cache, tier) = Create(ZsWritebackPolicy.EntryClock);
        using var _c = cache;
        cache.Set("a", [1], NoExpiry);
        cache.Set("b", [2], NoExpiry);
        await cache.ReclaimAsync(1);
        cache.Refresh("a");
        await cache.ReclaimAsync(1);
        Assert.False(WrittenBack(tier, "a"));
        Assert.True(WrittenBack(tier, "b"));
    }

    [Theory]
    [InlineData(ZsWritebackPolicy.ZspageLru)]
    [InlineData(ZsWritebackPolicy.EntryClock)]
    public async Task A_failed_writeback_does_not_make_an_entry_look_hot(ZsWritebackPolicy policy)
    {
        var (cache, tier) = Create(policy);
        using var _c = cache;
        cache.Set("a", [1], NoExpiry);
        if (policy == ZsWritebackPolicy.EntryClock)
        {
            await cache.ReclaimAsync(1); // clear the bit a new entry starts with
        }

        tier.Refuse.Add("a");
        await cache.ReclaimAsync(1);
        Assert.False(WrittenBack(tier, "a"));
        Assert.Equal(1, cache.GetStatistics().EntriesInPool);

        tier.Refuse.Clear();
        await cache.ReclaimAsync(1); // not spared: the failure did not count as a reference
        Assert.True(WrittenBack(tier, "a"));
        Assert.Equal(0, cache.GetStatistics().EntriesInPool);
    }

    [Theory]
    [InlineData(ZsWritebackPolicy.ZspageLru)]
    [InlineData(ZsWritebackPolicy.EntryClock)]
    public async Task A_read_racing_a_writeback_keeps_the_entry(ZsWritebackPolicy policy)
    {
        var (cache, tier) = Create(policy);
        using var _c = cache;
        cache.Set("a", [1], NoExpiry);
        if (policy == ZsWritebackPolicy.EntryClock)
        {
            await cache.ReclaimAsync(1);
        }

        tier.WriteGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reclaim = cache.ReclaimAsync(1);
        await tier.WriteEntered.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal([1], cache.Get("a"));
        tier.WriteGate.SetResult();
        await reclaim.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(1, cache.GetStatistics().EntriesInPool);
        Assert.True(WrittenBack(tier, "a")); // the tier's copy is current: the entry is now clean
        var writes = tier.Writes;
        tier.WriteGate = null;
        if (policy == ZsWritebackPolicy.EntryClock)
        {
            await cache.ReclaimAsync(1); // the read's reference buys one pass
        }

        await cache.ReclaimAsync(1);
        Assert.Equal(0, cache.GetStatistics().EntriesInPool);
        Assert.Equal(writes, tier.Writes); // clean: freed without writing again
    }
}
