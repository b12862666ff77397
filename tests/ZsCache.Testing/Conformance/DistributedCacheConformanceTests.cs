using System.Buffers;
using System.Text;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Time.Testing;

namespace ZsCache.Testing.Conformance;

/// <summary>
/// Semantic tests every <see cref="IDistributedCache"/> must pass, written to the behaviour of
/// <c>MemoryDistributedCache</c> and <c>RedisCache</c> (see <c>CONTRACT.md</c>, "Semantics every
/// caller may rely on"). Derive once per cache; xunit creates one instance per test, so the
/// derived constructor builds a fresh cache and <see cref="Dispose()"/> disposes it.
/// </summary>
/// <remarks>
/// Expiration is driven only by a fake clock: a derived class returns its
/// <see cref="FakeTime"/>, which its cache must read. A cache whose clock cannot be faked
/// (RedisCache: the TTL is kept by the server) leaves <see cref="FakeTime"/> null, and the
/// time-dependent tests skip with <see cref="NoFakeTimeReason"/>. No test sleeps.
/// </remarks>
public abstract class DistributedCacheConformanceTests : IDisposable
{
    private static readonly DistributedCacheEntryOptions NoExpiration = new();

    /// <summary>The cache under test.</summary>
    protected abstract IDistributedCache Cache { get; }

    /// <summary>The fake clock the cache reads, or null when its expiration cannot be driven by one.</summary>
    protected virtual FakeTimeProvider? FakeTime => null;

    /// <summary>Why the time-dependent tests are not applicable when <see cref="FakeTime"/> is null.</summary>
    protected virtual string NoFakeTimeReason => "This cache's expiration cannot be driven by a fake clock.";

    /// <summary>
    /// True (the contract, and RedisCache) when a store whose absolute expiration is already past
    /// throws <see cref="ArgumentOutOfRangeException"/>. <c>MemoryDistributedCache</c> accepts it
    /// silently and keeps nothing readable; its derived class says so by returning false, and the
    /// test then checks only that nothing is readable.
    /// </summary>
    protected virtual bool RejectsPastAbsoluteExpiration => true;

    /// <summary>The cache's notion of now.</summary>
    protected DateTimeOffset Now => FakeTime?.GetUtcNow() ?? DateTimeOffset.UtcNow;

    /// <summary>A key no other test uses (tests may share one server).</summary>
    protected static string NewKey(string name = "key") => $"{name}-{Guid.NewGuid():N}";

    private FakeTimeProvider RequireFakeTime()
    {
        Skip.If(FakeTime is null, NoFakeTimeReason);
        return FakeTime!;
    }

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    // ---- argument validation ----

    [SkippableFact]
    public async Task Null_key_throws_ArgumentNullException_from_every_method()
    {
        var value = Bytes("v");
        Assert.Throws<ArgumentNullException>(() => Cache.Get(null!));
        Assert.Throws<ArgumentNullException>(() => Cache.Set(null!, value, NoExpiration));
        Assert.Throws<ArgumentNullException>(() => Cache.Refresh(null!));
        Assert.Throws<ArgumentNullException>(() => Cache.Remove(null!));
        await Assert.ThrowsAsync<ArgumentNullException>(() => Cache.GetAsync(null!));
        await Assert.ThrowsAsync<ArgumentNullException>(() => Cache.SetAsync(null!, value, NoExpiration));
        await Assert.ThrowsAsync<ArgumentNullException>(() => Cache.RefreshAsync(null!));
        await Assert.ThrowsAsync<ArgumentNullException>(() => Cache.RemoveAsync(null!));
    }

    [SkippableFact]
    public async Task Null_value_or_options_throws_ArgumentNullException()
    {
        var key = NewKey();
        Assert.Throws<ArgumentNullException>(() => Cache.Set(key, null!, NoExpiration));
        Assert.Throws<ArgumentNullException>(() => Cache.Set(key, Bytes("v"), null!));
        await Assert.ThrowsAsync<ArgumentNullException>(() => Cache.SetAsync(key, null!, NoExpiration));
        await Assert.ThrowsAsync<ArgumentNullException>(() => Cache.SetAsync(key, Bytes("v"), null!));
        Assert.Null(await Cache.GetAsync(key));
    }

    [SkippableFact]
    public async Task Absolute_expiration_in_the_past_throws_ArgumentOutOfRangeException()
    {
        var key = NewKey();
        var past = new DistributedCacheEntryOptions { AbsoluteExpiration = Now.AddMinutes(-1) };
        if (RejectsPastAbsoluteExpiration)
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => Cache.Set(key, Bytes("v"), past));
            await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Cache.SetAsync(key, Bytes("v"), past));
        }
        else
        {
            Cache.Set(key, Bytes("v"), past);
            await Cache.SetAsync(key, Bytes("v"), past);
        }

        Assert.Null(await Cache.GetAsync(key));
    }

    // ---- values ----

    [SkippableFact]
    public void Missing_key_reads_as_null()
    {
        Assert.Null(Cache.Get(NewKey("missing")));
    }

    [SkippableFact]
    public async Task Missing_key_reads_as_null_async()
    {
        Assert.Null(await Cache.GetAsync(NewKey("missing")));
    }

    [SkippableFact]
    public void Set_then_get_returns_the_same_bytes()
    {
        var key = NewKey();
        var value = Bytes("hello, cache");
        Cache.Set(key, value, NoExpiration);
        Assert.Equal(value, Cache.Get(key));
    }

    [SkippableFact]
    public async Task Set_then_get_returns_the_same_bytes_async()
    {
        var key = NewKey();
        var value = Bytes("hello, async cache");
        await Cache.SetAsync(key, value, NoExpiration);
        Assert.Equal(value, await Cache.GetAsync(key));
    }

    [SkippableFact]
    public async Task Empty_value_is_a_value_not_a_miss()
    {
        var key = NewKey();
        await Cache.SetAsync(key, [], NoExpiration);
        var read = await Cache.GetAsync(key);
        Assert.NotNull(read);
        Assert.Empty(read);
        Assert.Empty(Cache.Get(key)!);
    }

    [SkippableFact]
    public async Task Set_overwrites_the_previous_value()
    {
        var key = NewKey();
        await Cache.SetAsync(key, Bytes("first, and longer than the second"), NoExpiration);
        await Cache.SetAsync(key, Bytes("second"), NoExpiration);
        Assert.Equal(Bytes("second"), await Cache.GetAsync(key));
        Cache.Set(key, Bytes("third"), NoExpiration);
        Assert.Equal(Bytes("third"), Cache.Get(key));
    }

    [SkippableFact]
    public async Task Remove_makes_the_key_read_as_null()
    {
        var key = NewKey();
        Cache.Set(key, Bytes("v"), NoExpiration);
        Cache.Remove(key);
        Assert.Null(Cache.Get(key));

        await Cache.SetAsync(key, Bytes("v"), NoExpiration);
        await Cache.RemoveAsync(key);
        Assert.Null(await Cache.GetAsync(key));
    }

    [SkippableFact]
    public async Task Remove_and_refresh_of_a_missing_key_are_no_ops()
    {
        var key = NewKey("missing");
        Cache.Remove(key);
        Cache.Refresh(key);
        await Cache.RemoveAsync(key);
        await Cache.RefreshAsync(key);
        Assert.Null(await Cache.GetAsync(key));
    }

    [SkippableFact]
    public async Task Large_values_round_trip_byte_for_byte()
    {
        var key = NewKey("large");
        var value = new byte[(1024 * 1024) + 17];
        new Random(42).NextBytes(value);
        await Cache.SetAsync(key, value, NoExpiration);
        Assert.Equal(value, await Cache.GetAsync(key));
    }

    [SkippableFact]
    public async Task Unicode_keys_are_distinct_and_round_trip()
    {
        var suffix = Guid.NewGuid().ToString("N");
        string[] keys = [$"ключ-{suffix}", $"鍵-{suffix}", $"🔑-{suffix}", $"cle\u0301-{suffix}", $"clé-{suffix}"];
        foreach (var key in keys)
        {
            await Cache.SetAsync(key, Bytes(key), NoExpiration);
        }

        foreach (var key in keys)
        {
            Assert.Equal(Bytes(key), await Cache.GetAsync(key));
        }
    }

    // ---- expiration (fake clock only) ----

    [SkippableFact]
    public async Task Relative_expiration_expires_after_the_interval()
    {
        var time = RequireFakeTime();
        var key = NewKey();
        await Cache.SetAsync(key, Bytes("v"), new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(10) });
        time.Advance(TimeSpan.FromMinutes(9));
        Assert.NotNull(await Cache.GetAsync(key));
        time.Advance(TimeSpan.FromMinutes(2));
        Assert.Null(await Cache.GetAsync(key));
    }

    [SkippableFact]
    public async Task Absolute_expiration_expires_at_the_instant()
    {
        var time = RequireFakeTime();
        var key = NewKey();
        await Cache.SetAsync(key, Bytes("v"), new DistributedCacheEntryOptions { AbsoluteExpiration = time.GetUtcNow().AddMinutes(10) });
        time.Advance(TimeSpan.FromMinutes(9));
        Assert.NotNull(Cache.Get(key));
        time.Advance(TimeSpan.FromMinutes(2));
        Assert.Null(Cache.Get(key));
    }

    [SkippableFact]
    public async Task Sliding_expiration_is_renewed_by_reads_and_expires_when_idle()
    {
        var time = RequireFakeTime();
        var key = NewKey();
        await Cache.SetAsync(key, Bytes("v"), new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(10) });
        for (var i = 0; i < 3; i++)
        {
            time.Advance(TimeSpan.FromMinutes(7));
            Assert.NotNull(await Cache.GetAsync(key)); // 21 minutes in, alive thanks to the reads
        }

        time.Advance(TimeSpan.FromMinutes(11));
        Assert.Null(await Cache.GetAsync(key));
    }

    [SkippableFact]
    public async Task Sliding_expiration_never_extends_past_the_absolute_one()
    {
        var time = RequireFakeTime();
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

    [SkippableFact]
    public async Task Refresh_renews_sliding_expiration_without_reading()
    {
        var time = RequireFakeTime();
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

    [SkippableFact]
    public async Task Refresh_does_not_extend_past_the_absolute_expiration()
    {
        var time = RequireFakeTime();
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

    // ---- IBufferDistributedCache ----

    private IBufferDistributedCache RequireBufferCache()
    {
        Skip.IfNot(Cache is IBufferDistributedCache, $"{Cache.GetType().Name} does not implement IBufferDistributedCache.");
        return (IBufferDistributedCache)Cache;
    }

    [SkippableFact]
    public async Task Buffer_set_from_a_multi_segment_sequence_reads_back_identical()
    {
        var cache = RequireBufferCache();
        var key = NewKey();
        var value = new byte[70_001];
        new Random(7).NextBytes(value);
        var sequence = Segments.Split(value, 1, 4093, 30_000);
        Assert.False(sequence.IsSingleSegment);

        await cache.SetAsync(key, sequence, NoExpiration);
        var writer = new ArrayBufferWriter<byte>();
        Assert.True(await cache.TryGetAsync(key, writer));
        Assert.Equal(value, writer.WrittenSpan.ToArray());
        Assert.Equal(value, await Cache.GetAsync(key));
    }

    [SkippableFact]
    public void Buffer_sync_forms_round_trip_and_mix_with_byte_arrays()
    {
        var cache = RequireBufferCache();
        var key = NewKey();
        var value = Bytes(new string('z', 5000) + "tail");
        cache.Set(key, Segments.Split(value, 3, 100), NoExpiration);
        var writer = new ArrayBufferWriter<byte>();
        Assert.True(cache.TryGet(key, writer));
        Assert.Equal(value, writer.WrittenSpan.ToArray());

        Cache.Set(key, Bytes("array"), NoExpiration);
        writer.Clear();
        Assert.True(cache.TryGet(key, writer));
        Assert.Equal(Bytes("array"), writer.WrittenSpan.ToArray());
    }

    [SkippableFact]
    public async Task Buffer_try_get_of_a_missing_key_returns_false_and_writes_nothing()
    {
        var cache = RequireBufferCache();
        var writer = new ArrayBufferWriter<byte>();
        Assert.False(await cache.TryGetAsync(NewKey("missing"), writer));
        Assert.False(cache.TryGet(NewKey("missing"), writer));
        Assert.Equal(0, writer.WrittenCount);
    }

    [SkippableFact]
    public async Task Buffer_empty_sequence_is_a_value()
    {
        var cache = RequireBufferCache();
        var key = NewKey();
        await cache.SetAsync(key, ReadOnlySequence<byte>.Empty, NoExpiration);
        var writer = new ArrayBufferWriter<byte>();
        Assert.True(await cache.TryGetAsync(key, writer));
        Assert.Equal(0, writer.WrittenCount);
    }

    [SkippableFact]
    public async Task Buffer_set_with_past_absolute_expiration_throws()
    {
        var cache = RequireBufferCache();
        var past = new DistributedCacheEntryOptions { AbsoluteExpiration = Now.AddMinutes(-1) };
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await cache.SetAsync(NewKey(), Segments.Split(Bytes("abc"), 1), past));
    }

    /// <summary>Disposes the cache when it is disposable.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Disposes the cache when it is disposable.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            (Cache as IDisposable)?.Dispose();
        }
    }
}
