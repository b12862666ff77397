using System.Buffers;
using Microsoft.Extensions.Caching.Distributed;
using Xunit.Abstractions;
using ZsCache.Reliability.Tests.Support;
using ZsCache.Testing.Redis;

namespace ZsCache.Reliability.Tests.BadInput;

/// <summary>
/// Values at every size boundary: each size class's slot size (read from the cache's own class
/// table) minus the object header and key, one byte less and one more; the large-object and
/// page boundaries; <c>MaxValueBytes</c> and one byte over; values larger than the pool itself.
/// </summary>
public sealed class SizeBoundaryTests(RedisServerFixture redis, ITestOutputHelper output) : IClassFixture<RedisServerFixture>
{
    /// <summary><c>ObjectLayout.HeaderSize</c>: key hash (4) and key length (2) before the key.</summary>
    private const int HeaderSize = 6;

    private static readonly DistributedCacheEntryOptions Forever = new();

    [Fact]
    public async Task Values_at_every_size_class_boundary_land_in_their_class_and_round_trip_through_both_tiers()
    {
        Assert.Equal(HeaderSize, Cache.ObjectLayout.HeaderSize);
        await using var sut = CacheUnderTest.Create(redis.ConnectionString, o =>
        {
            o.MaxPoolBytes = 64L * 1024 * 1024;
            o.InstanceName = $"sizes-{Guid.NewGuid():N}:";
            o.Compression = ZsCompression.None; // stored length = value length, so the boundaries are exact
        });
        var cache = sut.Cache;
        var sizes = cache.GetStatistics().Classes.Where(c => c.Size > 0).Select(c => c.Size).Distinct().Order().ToArray();
        var largest = sizes[^1];
        output.WriteLine($"{sizes.Length} distinct size classes, {sizes[0]} to {largest} bytes");

        // Keys of 5 bytes: an object is HeaderSize + 5 + the value.
        var overhead = HeaderSize + 5;
        var lengths = new List<int> { 0, 1, 4096 - overhead - 1, 4096 - overhead, 4096 - overhead + 1 };
        foreach (var size in sizes)
        {
            lengths.AddRange([size - overhead - 1, size - overhead, size - overhead + 1]);
        }

        // Past the largest class: large zspages, a whole number of pages each.
        foreach (var pages in new[] { 5, 8, 16, 17 })
        {
            lengths.AddRange([(pages * 4096) - overhead - 1, (pages * 4096) - overhead, (pages * 4096) - overhead + 1]);
        }

        lengths = [.. lengths.Where(n => n >= 0).Distinct()];
        var values = new byte[lengths.Count][];
        var misplaced = new List<string>();
        for (var i = 0; i < lengths.Count; i++)
        {
            values[i] = Value(i, lengths[i]);
            var before = cache.GetStatistics().Classes;
            await cache.SetAsync(Key(i), values[i], Forever);
            var after = cache.GetStatistics().Classes;
            var grew = after.Where(c => c.ObjectsUsed > (before.FirstOrDefault(b => b.Index == c.Index)?.ObjectsUsed ?? 0)).ToArray();
            var objectLength = overhead + lengths[i];
            var expected = objectLength > largest ? 0 : sizes.First(s => s >= objectLength);
            if (grew.Length != 1 || grew[0].Size != expected)
            {
                misplaced.Add($"{lengths[i]}-byte value ({objectLength}-byte object) went to class size(s) [{string.Join(',', grew.Select(g => g.Size))}], expected {(expected == 0 ? "a large zspage" : expected)}");
            }
        }

        Assert.True(misplaced.Count == 0, string.Join(Environment.NewLine, misplaced));

        for (var i = 0; i < lengths.Count; i++)
        {
            var back = await cache.GetAsync(Key(i));
            Assert.True(back is not null && values[i].AsSpan().SequenceEqual(back), $"the {lengths[i]}-byte value reads back from the pool");
        }

        await cache.ReclaimAsync(100_000);
        Assert.Equal(0, cache.GetStatistics().EntriesInPool);
        for (var i = 0; i < lengths.Count; i++)
        {
            var back = await cache.GetAsync(Key(i));
            Assert.True(back is not null && values[i].AsSpan().SequenceEqual(back), $"the {lengths[i]}-byte value reads back from Redis");
        }

        output.WriteLine($"{lengths.Count} values from {lengths.Min()} to {lengths.Max()} bytes round-tripped through both tiers");
    }

    [Fact]
    public async Task MaxValueBytes_is_accepted_and_one_byte_more_is_refused_in_every_form()
    {
        const int max = 300_000;
        await using var sut = CacheUnderTest.Create(redis.ConnectionString, o =>
        {
            o.MaxPoolBytes = 4L * 1024 * 1024;
            o.MaxValueBytes = max;
            o.InstanceName = $"maxvalue-{Guid.NewGuid():N}:";
        });
        var cache = sut.Cache;
        var atLimit = Value(1, max);
        await cache.SetAsync("at", atLimit, Forever);
        cache.Set("at-sync", atLimit, Forever);
        await cache.SetAsync("at-seq", new ReadOnlySequence<byte>(atLimit), Forever);
        Assert.Equal(atLimit, await cache.GetAsync("at"));

        var over = Value(2, max + 1);
        Assert.Throws<ArgumentOutOfRangeException>("value", () => cache.Set("at", over, Forever));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>("value", () => cache.SetAsync("at", over, Forever));
        Assert.Throws<ArgumentOutOfRangeException>("value", () => cache.Set("at", new ReadOnlySequence<byte>(over), Forever));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>("value", async () => await cache.SetAsync("at", new ReadOnlySequence<byte>(over), Forever));

        // A refused Set changes nothing.
        Assert.Equal(atLimit, await cache.GetAsync("at"));

        // And the value at the limit survives writeback (the tier's decoder caps come from MaxValueBytes too).
        await cache.ReclaimAsync(100_000);
        Assert.Equal(atLimit, await cache.GetAsync("at"));
        Assert.Equal(atLimit, await cache.GetAsync("at-sync"));
        Assert.Equal(atLimit, await cache.GetAsync("at-seq"));
    }

    [Fact]
    public async Task Values_larger_than_the_pool_go_to_redis_or_are_dropped_without_a_tier()
    {
        const long pool = 1024 * 1024;
        await using var sut = CacheUnderTest.Create(redis.ConnectionString, o =>
        {
            o.MaxPoolBytes = pool;
            o.MaxValueBytes = 4 * 1024 * 1024;
            o.InstanceName = $"bigger-{Guid.NewGuid():N}:";
            o.Compression = ZsCompression.None;
        });
        await using var alone = CacheUnderTest.Create(null, o =>
        {
            o.MaxPoolBytes = pool;
            o.MaxValueBytes = 4 * 1024 * 1024;
        });
        var maxObject = sut.Cache.Pool.MaxObjectBytes;
        Assert.True(maxObject <= pool);
        var fits = maxObject - HeaderSize - 1; // key "k"
        foreach (var length in new[] { fits - 1, fits, fits + 1, 3 * 1024 * 1024, 4 * 1024 * 1024 })
        {
            var value = Value(length, length);
            await sut.Cache.SetAsync("k", value, Forever);
            Assert.True(sut.Cache.Pool.TotalBytes <= pool);
            Assert.Equal(value, await sut.Cache.GetAsync("k"));

            await alone.Cache.SetAsync("k", value, Forever);
            Assert.True(alone.Cache.Pool.TotalBytes <= pool);
            var back = await alone.Cache.GetAsync("k");
            Assert.True(back is null ? length > fits : back.AsSpan().SequenceEqual(value), $"{length}: the value or, when the pool cannot hold it, a miss");
        }

        Assert.True(alone.Counters.DroppedAtCapacity > 0, "without a tier, values the pool cannot hold are dropped and counted");
    }

    [Fact]
    public async Task Empty_values_are_values_in_both_tiers()
    {
        await using var sut = CacheUnderTest.Create(redis.ConnectionString, o => o.InstanceName = $"empty-{Guid.NewGuid():N}:");
        await sut.Cache.SetAsync("e", [], Forever);
        Assert.Equal(Array.Empty<byte>(), await sut.Cache.GetAsync("e"));
        await sut.Cache.ReclaimAsync(1000);
        Assert.Equal(0, sut.Cache.GetStatistics().EntriesInPool);
        Assert.Equal(Array.Empty<byte>(), await sut.Cache.GetAsync("e"));
    }

    private static string Key(int i) => i.ToString("D5", System.Globalization.CultureInfo.InvariantCulture);

    private static byte[] Value(int seed, int length)
    {
        var value = new byte[length];
        new Random(seed).NextBytes(value);
        return value;
    }
}
