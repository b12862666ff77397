using System.Text;
using Microsoft.Extensions.Caching.Distributed;

namespace ZsCache.Testing.Conformance;

/// <summary>
/// Semantic tests every <see cref="IDistributedCache"/> must pass, written to the behaviour of
/// <c>MemoryDistributedCache</c> and <c>RedisCache</c> (see <c>CONTRACT.md</c>, "Semantics every
/// caller may rely on"). Derive once per cache; xunit creates one instance per test, so the
/// derived constructor builds a fresh cache and <see cref="Dispose()"/> disposes it.
/// </summary>
/// <remarks>
/// Capabilities are separate bases rather than skips: <see cref="ExpiringDistributedCacheConformanceTests"/>
/// adds the tests driven by a fake clock (for caches whose clock can be faked; RedisCache's TTL
/// is kept by the server), and <see cref="BufferDistributedCacheConformanceTests"/> those of
/// <see cref="IBufferDistributedCache"/>. No test sleeps.
/// </remarks>
public abstract class DistributedCacheConformanceTests : IDisposable
{
    /// <summary>Options with no expiration.</summary>
    protected static readonly DistributedCacheEntryOptions NoExpiration = new();

    /// <summary>The cache under test.</summary>
    protected abstract IDistributedCache Cache { get; }

    /// <summary>
    /// True (the contract, and RedisCache) when a store whose absolute expiration is already past
    /// throws <see cref="ArgumentOutOfRangeException"/>. <c>MemoryDistributedCache</c> accepts it
    /// silently and keeps nothing readable; its derived class says so by returning false, and the
    /// test then checks only that nothing is readable.
    /// </summary>
    protected virtual bool RejectsPastAbsoluteExpiration => true;

    /// <summary>The cache's notion of now.</summary>
    protected virtual DateTimeOffset Now => DateTimeOffset.UtcNow;

    /// <summary>A key no other test uses (tests may share one server).</summary>
    protected static string NewKey(string name = "key") => $"{name}-{Guid.NewGuid():N}";

    /// <summary>UTF-8 bytes of <paramref name="text"/>.</summary>
    protected static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    // ---- argument validation ----

    [Fact]
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

    [Fact]
    public async Task Null_value_or_options_throws_ArgumentNullException()
    {
        var key = NewKey();
        Assert.Throws<ArgumentNullException>(() => Cache.Set(key, null!, NoExpiration));
        Assert.Throws<ArgumentNullException>(() => Cache.Set(key, Bytes("v"), null!));
        await Assert.ThrowsAsync<ArgumentNullException>(() => Cache.SetAsync(key, null!, NoExpiration));
        await Assert.ThrowsAsync<ArgumentNullException>(() => Cache.SetAsync(key, Bytes("v"), null!));
        Assert.Null(await Cache.GetAsync(key));
    }

    [Fact]
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

    [Fact]
    public void Missing_key_reads_as_null()
    {
        Assert.Null(Cache.Get(NewKey("missing")));
    }

    [Fact]
    public async Task Missing_key_reads_as_null_async()
    {
        Assert.Null(await Cache.GetAsync(NewKey("missing")));
    }

    [Fact]
    public void Set_then_get_returns_the_same_bytes()
    {
        var key = NewKey();
        var value = Bytes("hello, cache");
        Cache.Set(key, value, NoExpiration);
        Assert.Equal(value, Cache.Get(key));
    }

    [Fact]
    public async Task Set_then_get_returns_the_same_bytes_async()
    {
        var key = NewKey();
        var value = Bytes("hello, async cache");
        await Cache.SetAsync(key, value, NoExpiration);
        Assert.Equal(value, await Cache.GetAsync(key));
    }

    [Fact]
    public async Task Empty_value_is_a_value_not_a_miss()
    {
        var key = NewKey();
        await Cache.SetAsync(key, [], NoExpiration);
        var read = await Cache.GetAsync(key);
        Assert.NotNull(read);
        Assert.Empty(read);
        Assert.Empty(Cache.Get(key)!);
    }

    [Fact]
    public async Task Set_overwrites_the_previous_value()
    {
        var key = NewKey();
        await Cache.SetAsync(key, Bytes("first, and longer than the second"), NoExpiration);
        await Cache.SetAsync(key, Bytes("second"), NoExpiration);
        Assert.Equal(Bytes("second"), await Cache.GetAsync(key));
        Cache.Set(key, Bytes("third"), NoExpiration);
        Assert.Equal(Bytes("third"), Cache.Get(key));
    }

    [Fact]
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

    [Fact]
    public async Task Remove_and_refresh_of_a_missing_key_are_no_ops()
    {
        var key = NewKey("missing");
        Cache.Remove(key);
        Cache.Refresh(key);
        await Cache.RemoveAsync(key);
        await Cache.RefreshAsync(key);
        Assert.Null(await Cache.GetAsync(key));
    }

    [Fact]
    public async Task Large_values_round_trip_byte_for_byte()
    {
        var key = NewKey("large");
        var value = new byte[(1024 * 1024) + 17];
        new Random(42).NextBytes(value);
        await Cache.SetAsync(key, value, NoExpiration);
        Assert.Equal(value, await Cache.GetAsync(key));
    }

    [Fact]
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
