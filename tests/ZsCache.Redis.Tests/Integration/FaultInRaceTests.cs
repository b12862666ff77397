using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Options;
using ZsCache.Redis.Tests.Writeback;
using ZsCache.Testing.Redis;
using ZsCache.Writeback;

namespace ZsCache.Redis.Tests.Integration;

/// <summary>
/// Deterministic replays of the stale reads the hammer in <see cref="StaleResurrectionTests"/>
/// caught against real Redis: a fault-in whose Redis reply is processed after the Remove's fence
/// was confirmed. The real Redis tier does the I/O; a thin wrapper only holds a reply (as a busy
/// thread pool does) or a fence (as the background fence loop may) at a gate.
/// </summary>
public sealed class FaultInRaceTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_read_that_starts_after_RemoveAsync_does_not_join_an_older_fetch_and_return_the_removed_value()
    {
        await using var h = await TierHarness.CreateAsync(redis.ConnectionString);
        var tier = new GatedTier(h.Tier);
        using var cache = Create(tier, h.Prefix);
        var value = Caches.Value(1);
        await WriteBackAsync(cache, h, "k", value);

        // A read begins; Redis answers with the written-back value, but the answer is not processed yet.
        tier.HoldReadReplies();
        var concurrent = cache.GetAsync("k");
        await tier.ReadAnswered.WaitAsync(Bound);

        // The Remove completes: its fence is confirmed by Redis.
        await cache.RemoveAsync("k");
        Assert.Equal(0, cache.GetStatistics().PendingFences);
        Assert.True((await h.Db.StringGetRangeAsync(h.Key("k"), 0, 3)).ToString().EndsWith('\u0001'), "Redis holds a fence now");

        // A read that begins after the Remove completed...
        var later = cache.GetAsync("k");
        tier.ReleaseReadReplies();
        _ = await concurrent.WaitAsync(Bound); // concurrent with the Remove: either answer is linearizable

        // ...must not see the removed value (it joined the fetch that began before the Remove).
        Assert.Null(await later.WaitAsync(Bound));
    }

    [Fact]
    public async Task A_read_that_starts_after_Remove_does_not_return_the_removed_value_when_the_fence_is_confirmed_before_the_reply_is_processed()
    {
        await using var h = await TierHarness.CreateAsync(redis.ConnectionString);
        var tier = new GatedTier(h.Tier);
        using var cache = Create(tier, h.Prefix);
        var value = Caches.Value(2);
        await WriteBackAsync(cache, h, "k", value);

        // Remove returns at once (local fence); the background loop's fence has not gone out yet.
        tier.HoldFences();
        cache.Remove("k");
        Assert.Equal(1, cache.GetStatistics().PendingFences);

        // A read that begins after the Remove returned: Redis still holds the value and answers with it.
        tier.HoldReadReplies();
        var later = cache.GetAsync("k");
        await tier.ReadAnswered.WaitAsync(Bound);

        // The fence goes out and is confirmed before the read's reply is processed.
        tier.ReleaseFences();
        Assert.True(await Caches.WaitUntilAsync(() => cache.GetStatistics().PendingFences == 0, Bound), "the fence is confirmed");
        tier.ReleaseReadReplies();

        Assert.Null(await later.WaitAsync(Bound));
        Assert.Null(await cache.GetAsync("k"));
    }

    private static ZsDistributedCache Create(IZsWritebackTier tier, string prefix) =>
        new(Options.Create(new ZsCacheOptions { MaxPoolBytes = 1024 * 1024, InstanceName = prefix }), tier);

    private static async Task WriteBackAsync(ZsDistributedCache cache, TierHarness h, string key, byte[] value)
    {
        await Caches.WarmUpAsync(cache);
        await cache.SetAsync(key, value, Caches.NoExpiry);
        await cache.ReclaimAsync(1000);
        await Caches.DrainFencesAsync(cache, Bound);
        Assert.Equal(0, cache.GetStatistics().EntriesInPool);
        Assert.True(await h.Db.KeyExistsAsync(h.Key(key)), "the value was written back to Redis");
    }

    /// <summary>The real tier, with gates that hold a read's answer after Redis gave it, or a fence before it is sent.</summary>
    private sealed class GatedTier(IZsWritebackTier inner) : IZsWritebackTier
    {
        private volatile TaskCompletionSource? _readGate;
        private volatile TaskCompletionSource? _fenceGate;
        private TaskCompletionSource _readAnswered = NewGate();

        public Task ReadAnswered => _readAnswered.Task;

        public TimeSpan FenceLifetime => inner.FenceLifetime;

        public bool IsAvailable => inner.IsAvailable;


        public bool AcceptsWrites => inner.AcceptsWrites;

        public void HoldReadReplies()
        {
            _readAnswered = NewGate();
            _readGate = NewGate();
        }

        public void ReleaseReadReplies() => Interlocked.Exchange(ref _readGate, null)?.SetResult();

        public void HoldFences() => _fenceGate = NewGate();

        public void ReleaseFences() => Interlocked.Exchange(ref _fenceGate, null)?.SetResult();

        public ValueTask WriteAsync(IReadOnlyList<ZsWritebackItem> items, CancellationToken cancellationToken) => inner.WriteAsync(items, cancellationToken);

        public async ValueTask<ZsWritebackValue?> ReadAsync(string key, DateTimeOffset now, CancellationToken cancellationToken)
        {
            var value = await inner.ReadAsync(key, now, cancellationToken);
            if (_readGate is { } gate)
            {
                _readAnswered.TrySetResult();
                await gate.Task.WaitAsync(Bound, cancellationToken);
            }

            return value;
        }

        public void SubscribeToFences(Action<string, long> fenced) => inner.SubscribeToFences(fenced);

        public async ValueTask<bool> FenceAsync(string key, long version, CancellationToken cancellationToken)
        {
            if (_fenceGate is { } gate)
            {
                await gate.Task.WaitAsync(Bound, cancellationToken);
            }

            return await inner.FenceAsync(key, version, cancellationToken);
        }

        public ValueTask<bool> RefreshAsync(string key, DateTimeOffset now, CancellationToken cancellationToken) => inner.RefreshAsync(key, now, cancellationToken);

        private static TaskCompletionSource NewGate() => new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
