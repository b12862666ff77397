using System.Buffers;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Time.Testing;
using ZsCache.Testing.Conformance;

namespace ZsCache.Tests.Cache;

public class ZsDistributedCacheTests
{
    private static readonly DistributedCacheEntryOptions NoExpiry = new();

    [Fact]
    public void Set_then_Get_returns_identical_bytes_for_compressible_and_random_values()
    {
        using var cache = CacheFactory.Create();
        var json = CacheFactory.JsonLike(1, 5000);
        var random = new byte[3000];
        new Random(7).NextBytes(random);
        cache.Set("json", json, NoExpiry);
        cache.Set("random", random, NoExpiry);

        Assert.Equal(json, cache.Get("json"));
        Assert.Equal(random, cache.Get("random"));
        var stats = cache.GetStatistics();
        Assert.Equal(2, stats.EntriesInPool);
        Assert.True(stats.StoredCompressedBytes < stats.StoredOriginalBytes, "the JSON value is stored compressed");
    }

    [Fact]
    public void Empty_value_is_a_value_not_a_miss()
    {
        using var cache = CacheFactory.Create();
        cache.Set("empty", [], NoExpiry);
        var value = cache.Get("empty");
        Assert.NotNull(value);
        Assert.Empty(value);
    }

    [Fact]
    public void Overwrite_replaces_and_frees_the_previous_object()
    {
        using var cache = CacheFactory.Create();
        cache.Set("k", CacheFactory.JsonLike(1, 2000), NoExpiry);
        var second = CacheFactory.JsonLike(2, 900);
        cache.Set("k", second, NoExpiry);
        Assert.Equal(second, cache.Get("k"));
        Assert.Equal(1, cache.GetStatistics().EntriesInPool);
    }

    [Fact]
    public void Remove_makes_the_key_miss_and_frees_its_object()
    {
        using var cache = CacheFactory.Create();
        cache.Set("k", CacheFactory.JsonLike(1, 2000), NoExpiry);
        cache.Remove("k");
        Assert.Null(cache.Get("k"));
        Assert.Equal(0, cache.GetStatistics().EntriesInPool);
        Assert.Equal(0, cache.GetStatistics().StoredOriginalBytes);
    }

    [Fact]
    public void Keys_that_share_a_hash_bucket_stay_distinct()
    {
        using var cache = CacheFactory.Create();
        for (var i = 0; i < 5000; i++)
        {
            cache.Set("key:" + i, BitConverter.GetBytes(i), NoExpiry);
        }

        for (var i = 0; i < 5000; i++)
        {
            var got = cache.Get("key:" + i);
            Assert.True(got is { Length: 4 }, $"key {i}: {(got is null ? "null" : got.Length.ToString(System.Globalization.CultureInfo.InvariantCulture))} entries={cache.GetStatistics().EntriesInPool} pool={cache.Pool.TotalBytes}");
            Assert.Equal(i, BitConverter.ToInt32(got));
        }
    }

    [Fact]
    public void Unicode_and_long_keys_round_trip()
    {
        using var cache = CacheFactory.Create();
        string[] keys = ["ключ", "鍵🔑", "e\u0301", new string('x', 5000), ""];
        foreach (var key in keys)
        {
            cache.Set(key, System.Text.Encoding.UTF8.GetBytes(key + "!"), NoExpiry);
        }

        foreach (var key in keys)
        {
            Assert.Equal(key + "!", System.Text.Encoding.UTF8.GetString(cache.Get(key)!));
        }
    }

    [Fact]
    public void Arguments_are_checked_with_their_names()
    {
        using var cache = CacheFactory.Create(configure: o => o.MaxValueBytes = 1000);
        Assert.Equal("key", Assert.Throws<ArgumentNullException>(() => cache.Get(null!)).ParamName);
        Assert.Equal("value", Assert.Throws<ArgumentNullException>(() => cache.Set("k", (byte[])null!, NoExpiry)).ParamName);
        Assert.Equal("options", Assert.Throws<ArgumentNullException>(() => cache.Set("k", [], null!)).ParamName);
        Assert.Equal("value", Assert.Throws<ArgumentOutOfRangeException>(() => cache.Set("k", new byte[1001], NoExpiry)).ParamName);
        Assert.Equal("key", Assert.Throws<ArgumentOutOfRangeException>(() => cache.Set(new string('a', 70000), [], NoExpiry)).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentNullException>(() => cache.TryGet("k", null!)).ParamName);
        cache.Set("k", new byte[1000], NoExpiry);
        Assert.Equal(1000, cache.Get("k")!.Length);
    }

    [Fact]
    public void Absolute_expiration_in_the_past_throws()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var cache = CacheFactory.Create(time);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => cache.Set("k", [1], new DistributedCacheEntryOptions { AbsoluteExpiration = time.GetUtcNow().AddSeconds(-1) }));
        Assert.Equal(nameof(DistributedCacheEntryOptions.AbsoluteExpiration), ex.ParamName);
    }

    [Fact]
    public void Absolute_expiration_removes_the_entry_when_time_passes()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var cache = CacheFactory.Create(time);
        cache.Set("k", [1, 2, 3], new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(5) });
        time.Advance(TimeSpan.FromMinutes(4));
        Assert.NotNull(cache.Get("k"));
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Null(cache.Get("k"));
        Assert.Equal(0, cache.GetStatistics().EntriesInPool);
    }

    [Fact]
    public void Sliding_expiration_is_renewed_by_reads_and_refresh_but_never_past_absolute()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var cache = CacheFactory.Create(time);
        cache.Set("k", [1], new DistributedCacheEntryOptions
        {
            SlidingExpiration = TimeSpan.FromMinutes(2),
            AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(5),
        });
        time.Advance(TimeSpan.FromMinutes(1.5));
        Assert.NotNull(cache.Get("k"));
        time.Advance(TimeSpan.FromMinutes(1.5));
        cache.Refresh("k");
        time.Advance(TimeSpan.FromMinutes(1.5));
        Assert.NotNull(cache.Get("k")); // 4.5 minutes in: kept alive by the read and the refresh
        time.Advance(TimeSpan.FromMinutes(0.6));
        Assert.Null(cache.Get("k")); // 5.1 minutes: the absolute bound wins over the sliding window
    }

    [Fact]
    public async Task A_sliding_window_of_TimeSpan_MaxValue_never_lapses_and_survives_writeback()
    {
        // Regression: now + window overflowed, so the value read as expired at once.
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var tier = new InMemoryTier();
        using var cache = CacheFactory.Create(time, tier: tier);
        var forever = new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.MaxValue };
        cache.Set("k", [1, 2], forever);
        time.Advance(TimeSpan.FromHours(2)); // (each simulated minute runs the expiration scan)
        Assert.Equal([1, 2], cache.Get("k"));
        cache.Refresh("k");
        await cache.ReclaimAsync(10_000);
        Assert.Equal(0, cache.GetStatistics().EntriesInPool);
        Assert.Equal([1, 2], await cache.GetAsync("k"));
        Assert.Equal([1, 2], await cache.GetAsync("k"));
    }

    [Fact]
    public void Sliding_expiration_lapses_without_access()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var cache = CacheFactory.Create(time);
        cache.Set("k", [1], new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(2) });
        time.Advance(TimeSpan.FromMinutes(2));
        Assert.Null(cache.Get("k"));
    }

    [Fact]
    public void Expiration_scan_frees_expired_entries_without_reads()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var cache = CacheFactory.Create(time);
        for (var i = 0; i < 100; i++)
        {
            cache.Set("k" + i, new byte[100], new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromSeconds(30) });
        }

        cache.Set("keep", new byte[100], NoExpiry);
        time.Advance(TimeSpan.FromMinutes(1)); // the scan timer fires on the fake clock
        Assert.Equal(1, cache.GetStatistics().EntriesInPool);
        Assert.NotNull(cache.Get("keep"));
    }

    [Fact]
    public void Buffer_api_round_trips_multi_segment_sequences()
    {
        using var cache = CacheFactory.Create();
        var value = CacheFactory.JsonLike(3, 10_000);
        var sequence = Segments.Split(value, 1000, 1, 3000, 17);
        cache.Set("k", sequence, NoExpiry);

        var writer = new ArrayBufferWriter<byte>();
        Assert.True(cache.TryGet("k", writer));
        Assert.Equal(value, writer.WrittenSpan.ToArray());
        Assert.False(cache.TryGet("missing", writer));
        Assert.Equal(value.Length, writer.WrittenCount);
    }

    [Fact]
    public async Task Async_forms_behave_as_the_sync_ones()
    {
        using var cache = CacheFactory.Create();
        var value = CacheFactory.JsonLike(4, 3000);
        await cache.SetAsync("k", value, NoExpiry);
        Assert.Equal(value, await cache.GetAsync("k"));
        await cache.RefreshAsync("k");
        var writer = new ArrayBufferWriter<byte>();
        Assert.True(await cache.TryGetAsync("k", writer));
        Assert.Equal(value, writer.WrittenSpan.ToArray());
        await cache.SetAsync("k2", new ReadOnlySequence<byte>(value), NoExpiry);
        Assert.Equal(value, await cache.GetAsync("k2"));
        await cache.RemoveAsync("k");
        Assert.Null(await cache.GetAsync("k"));
    }

    [Fact]
    public void Values_larger_than_a_zspage_round_trip()
    {
        using var cache = CacheFactory.Create();
        var value = new byte[300_000];
        new Random(5).NextBytes(value);
        cache.Set("big", value, NoExpiry);
        Assert.Equal(value, cache.Get("big"));
    }

    [Fact]
    public void Requests_are_counted_by_result_and_tier()
    {
        using var cache = CacheFactory.Create();
        var measurements = new List<(long Value, string? Result, string? Tier)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter == cache.Meter && instrument.Name == "zscache.requests")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            string? result = null, tier = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "result") result = (string?)tag.Value;
                if (tag.Key == "tier") tier = (string?)tag.Value;
            }

            measurements.Add((value, result, tier));
        });
        listener.Start();

        cache.Set("k", [1], NoExpiry);
        cache.Get("k");
        cache.Get("nope");
        cache.TryGet("k", new ArrayBufferWriter<byte>());

        Assert.Equal(2, measurements.Count(m => m is { Result: "hit", Tier: "pool" }));
        Assert.Equal(1, measurements.Count(m => m is { Result: "miss", Tier: null }));
    }
}
