using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Time.Testing;

namespace ZsCache.Testing.Conformance;

/// <summary>
/// The semantic tests plus expiration driven by a fake clock, for caches whose clock can be
/// faked: the derived class returns the <see cref="FakeTime"/> its cache reads.
/// </summary>
public abstract class ExpiringDistributedCacheConformanceTests : DistributedCacheConformanceTests
{
    /// <summary>The fake clock the cache reads.</summary>
    protected abstract FakeTimeProvider FakeTime { get; }

    /// <inheritdoc />
    protected override DateTimeOffset Now => FakeTime.GetUtcNow();

    /// <summary>
    /// True when an idle sliding entry's deadline is kept on the cache's clock, so the fake clock
    /// can run it out. False for a cache whose sliding deadline, once the value is in Redis, is the
    /// key's Redis TTL on the server's real clock (ZsCache with its writeback tier); the idle test
    /// then checks the renewals only, and the TTL renewals are tested against the server itself.
    /// </summary>
    protected virtual bool IdleSlidingExpiryFollowsTheFakeClock => true;

    [Fact]
    public async Task Relative_expiration_expires_after_the_interval()
    {
        var time = FakeTime;
        var key = NewKey();
        await Cache.SetAsync(key, Bytes("v"), new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(10) });
        time.Advance(TimeSpan.FromMinutes(9));
        Assert.NotNull(await Cache.GetAsync(key));
        time.Advance(TimeSpan.FromMinutes(2));
        Assert.Null(await Cache.GetAsync(key));
    }

    [Fact]
    public async Task Absolute_expiration_expires_at_the_instant()
    {
        var time = FakeTime;
        var key = NewKey();
        await Cache.SetAsync(key, Bytes("v"), new DistributedCacheEntryOptions { AbsoluteExpiration = time.GetUtcNow().AddMinutes(10) });
        time.Advance(TimeSpan.FromMinutes(9));
        Assert.NotNull(Cache.Get(key));
        time.Advance(TimeSpan.FromMinutes(2));
        Assert.Null(Cache.Get(key));
    }

    [Fact]
    public async Task Sliding_expiration_is_renewed_by_reads_and_expires_when_idle()
    {
        var time = FakeTime;
        var key = NewKey();
        await Cache.SetAsync(key, Bytes("v"), new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(10) });
        for (var i = 0; i < 3; i++)
        {
            time.Advance(TimeSpan.FromMinutes(7));
            Assert.NotNull(await Cache.GetAsync(key)); // 21 minutes in, alive thanks to the reads
        }

        if (IdleSlidingExpiryFollowsTheFakeClock)
        {
            time.Advance(TimeSpan.FromMinutes(11));
            Assert.Null(await Cache.GetAsync(key));
        }
    }

    [Fact]
    public async Task Sliding_expiration_never_extends_past_the_absolute_one()
    {
        var time = FakeTime;
        var key = NewKey();
        await Cache.SetAsync(key, Bytes("v"), new DistributedCacheEntryOptions
        {
            AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(10),
            SlidingExpiration = TimeSpan.FromMinutes(8),
        });
        time.Advance(TimeSpan.FromMinutes(7));
        Assert.NotNull(await Cache.GetAsync(key)); // sliding would now run to minute 15
        time.Advance(TimeSpan.FromMinutes(4));
        Assert.Null(await Cache.GetAsync(key)); // minute 11: past the absolute expiration
    }

    [Fact]
    public async Task Refresh_renews_sliding_expiration_without_reading()
    {
        var time = FakeTime;
        var key = NewKey();
        var other = NewKey();
        var sliding = new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(10) };
        await Cache.SetAsync(key, Bytes("v"), sliding);
        Cache.Set(other, Bytes("w"), sliding);
        time.Advance(TimeSpan.FromMinutes(7));
        await Cache.RefreshAsync(key);
        Cache.Refresh(other);
        time.Advance(TimeSpan.FromMinutes(7)); // 14 minutes after the store, 7 after the refresh
        Assert.Equal(Bytes("v"), await Cache.GetAsync(key));
        Assert.Equal(Bytes("w"), await Cache.GetAsync(other));
    }

    [Fact]
    public async Task Refresh_does_not_extend_past_the_absolute_expiration()
    {
        var time = FakeTime;
        var key = NewKey();
        await Cache.SetAsync(key, Bytes("v"), new DistributedCacheEntryOptions
        {
            AbsoluteExpiration = time.GetUtcNow().AddMinutes(10),
            SlidingExpiration = TimeSpan.FromMinutes(8),
        });
        time.Advance(TimeSpan.FromMinutes(7));
        await Cache.RefreshAsync(key);
        time.Advance(TimeSpan.FromMinutes(4));
        Assert.Null(await Cache.GetAsync(key));
    }
}
