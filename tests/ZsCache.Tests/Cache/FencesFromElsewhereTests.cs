using System.Diagnostics.Metrics;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Time.Testing;

namespace ZsCache.Tests.Cache;

/// <summary>
/// The cache's side of coherence between instances: the tier reports a fence another instance
/// wrote (its Set or Remove of a key), and this pool's older copy of the key goes. Driven by
/// hand through the in-memory tier's callback; the Redis channel that carries these reports is
/// tested against real servers in ZsCache.Redis.Tests (CoherenceTests).
/// </summary>
public class FencesFromElsewhereTests
{
    private static readonly DistributedCacheEntryOptions NoExpiry = new();
    private static readonly DateTimeOffset Start = DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A version as another instance's clock would issue it at <paramref name="at"/>.</summary>
    private static long VersionAt(DateTimeOffset at) => at.ToUnixTimeMilliseconds() << 20;

    private static (ZsDistributedCache Cache, InMemoryTier Tier, FakeTimeProvider Time) Create()
    {
        var tier = new InMemoryTier();
        var time = new FakeTimeProvider(Start);
        return (CacheFactory.Create(time, o => o.WritebackPolicy = ZsWritebackPolicy.ZspageLru, tier), tier, time);
    }

    [Fact]
    public async Task A_newer_fence_from_elsewhere_drops_the_older_entry_and_only_that_one()
    {
        var (cache, tier, time) = Create();
        using var _c = cache;
        long invalidations = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter == cache.Meter && instrument.Name == "zscache.invalidations")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref invalidations, value));
        listener.Start();

        await cache.SetAsync("k", [1, 2, 3], NoExpiry);
        await cache.SetAsync("other", [4, 5, 6], NoExpiry);
        Assert.NotNull(tier.FencedElsewhere);

        tier.FencedElsewhere!("k", VersionAt(time.GetUtcNow().AddMilliseconds(1)));

        Assert.Null(cache.Get("k"));
        Assert.Equal([4, 5, 6], cache.Get("other"));
        var stats = cache.GetStatistics();
        Assert.Equal(1, stats.EntriesInPool);
        Assert.Equal(1, stats.EntriesInvalidated);
        Assert.Equal(1, Interlocked.Read(ref invalidations));
        Assert.Equal(1, stats.Misses);
    }

    [Fact]
    public async Task An_older_fence_from_elsewhere_leaves_a_newer_entry_and_a_repeated_fence_counts_once()
    {
        var (cache, tier, time) = Create();
        using var _c = cache;
        var before = time.GetUtcNow();
        time.Advance(TimeSpan.FromMilliseconds(5));
        await cache.SetAsync("k", [1, 2, 3], NoExpiry);

        tier.FencedElsewhere!("k", VersionAt(before));
        Assert.Equal([1, 2, 3], cache.Get("k"));

        var later = VersionAt(time.GetUtcNow().AddMilliseconds(1));
        tier.FencedElsewhere("k", later);
        tier.FencedElsewhere("k", later);
        tier.FencedElsewhere("never-seen", later);
        Assert.Null(cache.Get("k"));
        Assert.Equal(1, cache.GetStatistics().EntriesInvalidated);
    }

    [Fact]
    public async Task A_fence_of_the_same_version_from_elsewhere_drops_the_entry()
    {
        // Two instances' first Sets within one millisecond get the same version: neither value
        // may survive in one pool while the other survives in the other.
        var (cache, tier, time) = Create();
        using var _c = cache;
        await cache.SetAsync("k", [1, 2, 3], NoExpiry);
        tier.FencedElsewhere!("k", VersionAt(time.GetUtcNow()));
        Assert.Null(cache.Get("k"));
        Assert.Equal(1, cache.GetStatistics().EntriesInvalidated);
    }

    [Fact]
    public async Task A_fault_in_under_way_when_the_fence_arrives_is_not_admitted_and_later_reads_do_not_join_it()
    {
        var (cache, tier, time) = Create();
        using var _c = cache;
        var value = CacheFactory.JsonLike(1, 500);
        await cache.SetAsync("k", value, NoExpiry);
        await cache.ReclaimAsync(10_000);
        Assert.Equal(0, cache.GetStatistics().EntriesInPool);

        // The read has fetched the value written back and waits at the gate when another
        // instance's Set of the key is reported.
        tier.ReadGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        tier.ResetSignals();
        var first = cache.GetAsync("k");
        await tier.ReadEntered.Task.WaitAsync(TimeSpan.FromSeconds(10));
        // As Redis does: the fence is in the tier before any instance hears of it.
        var fence = VersionAt(time.GetUtcNow().AddMilliseconds(1));
        Assert.True(await tier.FenceAsync("k", fence, CancellationToken.None));
        tier.FencedElsewhere!("k", fence);
        var readsBefore = tier.Reads;
        var second = cache.GetAsync("k");
        tier.ReadGate.SetResult();

        // The first read began before the report and may return what it fetched; it is not
        // brought into the pool. The second began after: it asked the tier itself, and found the fence.
        Assert.Equal(value, await first);
        Assert.Null(await second);
        Assert.Equal(readsBefore + 1, tier.Reads);
        Assert.Equal(0, cache.GetStatistics().EntriesInPool);
    }
}
