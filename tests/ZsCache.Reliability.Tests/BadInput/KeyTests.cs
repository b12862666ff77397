using System.Globalization;
using System.Text;
using Microsoft.Extensions.Caching.Distributed;
using StackExchange.Redis;
using Xunit.Abstractions;
using ZsCache.Reliability.Tests.Support;
using ZsCache.Testing.Redis;

namespace ZsCache.Reliability.Tests.BadInput;

/// <summary>
/// Keys of every Unicode category and of every interesting length, through the pool and
/// through Redis, and what a key with a lone surrogate means.
/// </summary>
/// <remarks>
/// <para><b>Decision: a key is its UTF-8 encoding.</b> Keys are UTF-8 in the pool's objects and
/// in Redis; UTF-8 cannot encode a lone surrogate, and .NET's encoder writes U+FFFD (EF BF BD)
/// in its place. So "a\uD800", "a\uDFFF" and "a\uFFFD" are one key in Redis, exactly as they
/// are for <c>RedisCache</c> (StackExchange.Redis encodes keys the same way). ZsCache must then
/// treat them as one key in the pool too; otherwise the same spellings are distinct while the
/// values are resident and the same once written back, and a Set of one undoes or exposes the
/// other depending on where the values happen to be. Rejecting such keys with an exception was
/// the alternative; it was not chosen because <c>IDistributedCache</c> callers (and
/// <c>RedisCache</c>) accept any non-null string, and a Get of a user-supplied key should not throw.</para>
/// <para>No normalisation: "é" (U+00E9) and "e\u0301" are different keys, as in every
/// <c>IDistributedCache</c>.</para>
/// </remarks>
public sealed class KeyTests(RedisServerFixture redis, ITestOutputHelper output) : IClassFixture<RedisServerFixture>, IAsyncLifetime
{
    private const int MaxKeyBytes = ushort.MaxValue;

    private readonly string _prefix = $"keys-{Guid.NewGuid():N}:";
    private ConnectionMultiplexer? _direct;
    private CacheUnderTest? _sut;

    private ZsDistributedCache Cache => _sut!.Cache;

    public async Task InitializeAsync()
    {
        _direct = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        _sut = CacheUnderTest.Create(redis.ConnectionString, o =>
        {
            o.MaxPoolBytes = 16L * 1024 * 1024;
            o.InstanceName = _prefix;
        });
    }

    public async Task DisposeAsync()
    {
        await _sut!.DisposeAsync();
        await _direct!.DisposeAsync();
    }

    [Fact]
    public async Task Keys_of_every_Unicode_category_round_trip_through_the_pool_and_through_redis()
    {
        var samples = SampleCodePointsByCategory(perCategory: 4, seed: 6);
        output.WriteLine($"{samples.Count} categories: " + string.Join(", ", samples.Select(p => $"{p.Key} {string.Join(' ', p.Value.Select(c => $"U+{c:X4}"))}")));
        var keys = new List<string> { "", " ", "\0", "a\0b", "\r\n", "\t", "\u00E9", "e\u0301", "\uFEFF", "\u200D", "👩‍👩‍👧", "🇺🇦", new string('\u0301', 50), "k" };
        foreach (var (_, codePoints) in samples)
        {
            foreach (var cp in codePoints)
            {
                var text = char.ConvertFromUtf32(cp);
                keys.Add(text);
                keys.Add("u:" + text + ":" + cp.ToString(CultureInfo.InvariantCulture));
            }
        }

        Assert.Equal(keys.Count, keys.Distinct(StringComparer.Ordinal).Count());
        await RoundTripAsync(keys);
    }

    [Fact]
    public async Task Keys_of_every_length_up_to_the_limit_round_trip_and_one_byte_more_is_refused()
    {
        var keys = new List<string>();
        for (var n = 0; n <= 300; n++)
        {
            keys.Add("L" + new string('x', n));
        }

        keys.Add(new string('a', 255));
        keys.Add(new string('a', 256));                   // the stack key buffer
        keys.Add(new string('a', 257));
        keys.Add(new string('€', 85) + "a");              // 256 UTF-8 bytes from 3-byte characters
        keys.Add(new string('a', MaxKeyBytes));            // exactly the limit, ASCII
        keys.Add(new string('€', MaxKeyBytes / 3));        // exactly the limit, 3-byte characters
        keys.Add(string.Concat(Enumerable.Repeat("😀", (MaxKeyBytes - 3) / 4)) + "abc"); // exactly the limit, surrogate pairs
        Assert.All(keys.TakeLast(3), k => Assert.Equal(MaxKeyBytes, Encoding.UTF8.GetByteCount(k)));
        await RoundTripAsync(keys);

        foreach (var tooLong in new[] { new string('a', MaxKeyBytes + 1), new string('€', MaxKeyBytes / 3) + "a", string.Concat(Enumerable.Repeat("😀", MaxKeyBytes / 4)) + "abcd" })
        {
            var bytes = Encoding.UTF8.GetByteCount(tooLong);
            Assert.True(bytes > MaxKeyBytes);
            Assert.Throws<ArgumentOutOfRangeException>("key", () => Cache.Set(tooLong, [1], new DistributedCacheEntryOptions()));
            await Assert.ThrowsAsync<ArgumentOutOfRangeException>("key", () => Cache.SetAsync(tooLong, [1], new DistributedCacheEntryOptions()));
            Assert.Throws<ArgumentOutOfRangeException>("key", () => Cache.Set(tooLong, new System.Buffers.ReadOnlySequence<byte>([1]), new DistributedCacheEntryOptions()));

            // A key that can never be stored is simply never found.
            Assert.Null(Cache.Get(tooLong));
            Assert.Null(await Cache.GetAsync(tooLong));
            Assert.False(Cache.TryGet(tooLong, new System.Buffers.ArrayBufferWriter<byte>()));
            Cache.Refresh(tooLong);
            await Cache.RefreshAsync(tooLong);
            Cache.Remove(tooLong);
            await Cache.RemoveAsync(tooLong);
        }
    }

    [Fact]
    public async Task A_key_with_a_lone_surrogate_round_trips_through_both_tiers()
    {
        string[] keys = ["s:\uD800", "s:\uDFFF:x", "\uDBFF", "t:\uDC00\uD800"];
        await RoundTripAsync(keys, checkRedisKeys: false);
    }

    /// <summary>
    /// BUG (fails until src is fixed): the pool tells these spellings apart (its index hashes the
    /// UTF-16 string) while Redis cannot (the key is UTF-8), so which value a Get sees depends on
    /// whether the values are resident. Fix: hash and fence the UTF-8 form (for example, map a key
    /// with a lone surrogate to its UTF-8 round trip once at the API boundary).
    /// </summary>
    [Fact]
    public async Task Keys_that_differ_only_in_lone_surrogates_are_one_key_in_the_pool_as_in_redis()
    {
        const string high = "s:\uD800";
        const string low = "s:\uDFFF";
        const string replacement = "s:\uFFFD";
        Assert.Equal(Encoding.UTF8.GetBytes(high), Encoding.UTF8.GetBytes(low));
        Assert.Equal(Encoding.UTF8.GetBytes(high), Encoding.UTF8.GetBytes(replacement));

        await Cache.SetAsync(high, [1], new DistributedCacheEntryOptions());
        await Cache.ReclaimAsync(1000);
        Assert.Equal([1], await Cache.GetAsync(replacement)); // from Redis: one key

        await Cache.SetAsync(low, [2], new DistributedCacheEntryOptions());
        Assert.Equal([2], await Cache.GetAsync(replacement)); // the newest Set of the key
        Assert.Equal([2], await Cache.GetAsync(high));
        Assert.Equal([2], await Cache.GetAsync(low));

        await Cache.RemoveAsync(replacement);
        Assert.Null(await Cache.GetAsync(high));
        Assert.Null(await Cache.GetAsync(low));
    }

    private async Task RoundTripAsync(IReadOnlyList<string> keys, bool checkRedisKeys = true)
    {
        var values = keys.Select((k, i) => Encoding.UTF8.GetBytes($"value {i} of {k.Length} chars")).ToArray();
        for (var i = 0; i < keys.Count; i++)
        {
            await Cache.SetAsync(keys[i], values[i], new DistributedCacheEntryOptions());
        }

        for (var i = 0; i < keys.Count; i++)
        {
            var back = await Cache.GetAsync(keys[i]);
            Assert.True(values[i].AsSpan().SequenceEqual(back), $"key {i} ({Describe(keys[i])}) reads its value from the pool");
        }

        await Cache.ReclaimAsync(100_000);
        Assert.Equal(0, Cache.GetStatistics().EntriesInPool);
        var db = _direct!.GetDatabase();
        for (var i = 0; i < keys.Count; i++)
        {
            if (checkRedisKeys)
            {
                // Exactly InstanceName + the key's UTF-8 bytes, nothing else.
                Assert.True(await db.KeyExistsAsync(Encoding.UTF8.GetBytes(_prefix + keys[i])), $"key {i} ({Describe(keys[i])}) is in Redis under its UTF-8 bytes");
            }

            var back = await Cache.GetAsync(keys[i]);
            Assert.True(values[i].AsSpan().SequenceEqual(back), $"key {i} ({Describe(keys[i])}) reads its value back from Redis");
        }

        for (var i = 0; i < keys.Count; i++)
        {
            await Cache.RemoveAsync(keys[i]);
            Assert.Null(await Cache.GetAsync(keys[i]));
        }
    }

    private static string Describe(string key) =>
        key.Length <= 12 ? string.Join(' ', key.Select(c => $"U+{(int)c:X4}")) : $"{key.Length} chars, {Encoding.UTF8.GetByteCount(key)} UTF-8 bytes";

    /// <summary>A few code points of every general category (surrogate code points are not characters: tested apart).</summary>
    private static Dictionary<UnicodeCategory, List<int>> SampleCodePointsByCategory(int perCategory, int seed)
    {
        var random = new Random(seed);
        var seen = new Dictionary<UnicodeCategory, int>();
        var samples = new Dictionary<UnicodeCategory, List<int>>();
        for (var cp = 0; cp <= 0x10FFFF; cp++)
        {
            if (cp is >= 0xD800 and <= 0xDFFF)
            {
                continue;
            }

            var category = CharUnicodeInfo.GetUnicodeCategory(cp);
            var n = seen[category] = seen.GetValueOrDefault(category) + 1;
            var list = samples.TryGetValue(category, out var l) ? l : samples[category] = [];

            // Reservoir sampling: every code point of the category equally likely.
            if (list.Count < perCategory)
            {
                list.Add(cp);
            }
            else if (random.Next(n) < perCategory)
            {
                list[random.Next(perCategory)] = cp;
            }
        }

        return samples;
    }
}
