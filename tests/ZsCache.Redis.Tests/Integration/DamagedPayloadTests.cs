using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using Xunit.Abstractions;
using ZsCache.Testing.Logging;
using ZsCache.Testing.Redis;

namespace ZsCache.Redis.Tests.Integration;

/// <summary>
/// Issue #4 end to end: values the whole cache wrote back, then damaged in the server one bit at
/// a time (SETRANGE on a connection of the test's own), read as a miss with a warning, never as
/// other bytes; put back as they were, they read as the value again.
/// </summary>
public abstract class DamagedPayloadTests(RedisServerFixture server, ITestOutputHelper output)
{
    private const int HeaderLength = 40;
    private const int ChecksumLength = 4;
    private const int DataTargets = 12;

    [Fact]
    public async Task Single_bit_flips_in_a_written_back_payload_read_as_a_miss_with_a_warning_never_as_other_bytes()
    {
        var instance = $"flip-{Guid.NewGuid():N}:";
        var logs = new CollectingLoggerProvider();
        await using var provider = Caches.Build(server.ConnectionString, instance, 1024 * 1024, Caches.Patient, logs: logs);
        var cache = provider.GetRequiredService<ZsDistributedCache>();
        await Caches.WarmUpAsync(cache);
        await using var direct = await ConnectionMultiplexer.ConnectAsync(server.ConnectionString);
        var db = direct.GetDatabase();

        // One key per flip: a read that succeeds brings the value back into the pool, where the
        // next flip would not be seen. Every header byte (a different bit in each), bytes spread
        // over the data, every checksum byte.
        var targets = new List<(string Where, int Index)>();
        targets.AddRange(Enumerable.Range(0, HeaderLength).Select(i => ("header", i)));
        targets.AddRange(Enumerable.Range(0, DataTargets).Select(i => ("data", i)));
        targets.AddRange(Enumerable.Range(0, ChecksumLength).Select(i => ("checksum", i)));
        var values = new byte[targets.Count][];
        for (var t = 0; t < targets.Count; t++)
        {
            values[t] = Caches.Value(t, maxBytes: 3000);
            var options = (t % 3) switch
            {
                0 => Caches.NoExpiry,
                1 => new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromHours(1) },
                _ => new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(10) },
            };
            await cache.SetAsync(Key(t), values[t], options);
        }

        for (var round = 0; round < 20 && cache.GetStatistics().EntriesInPool > 0; round++)
        {
            await cache.ReclaimAsync(1024);
        }

        Assert.Equal(0, cache.GetStatistics().EntriesInPool);

        var raw = 0;
        for (var t = 0; t < targets.Count; t++)
        {
            var redisKey = instance + Key(t);
            var payload = (byte[]?)await db.StringGetAsync(redisKey);
            Assert.True(payload is { Length: >= HeaderLength + ChecksumLength } && payload[2] == 2, $"{Key(t)} was written back in format 2");
            var dataLength = payload.Length - HeaderLength - ChecksumLength;
            raw += payload[4] == 0 ? 1 : 0;
            var (where, index) = targets[t];
            var offset = where switch
            {
                "header" => index,
                "data" => HeaderLength + (int)((long)index * (dataLength - 1) / (DataTargets - 1)),
                _ => payload.Length - ChecksumLength + index,
            };
            var bit = (t * 3) % 8;
            var original = payload[offset];

            await db.StringSetRangeAsync(redisKey, offset, new[] { (byte)(original ^ (1 << bit)) });
            var warningsBefore = Warnings(logs, Key(t)).Length;
            var read = await cache.GetAsync(Key(t));
            Assert.True(read is null, $"{where} byte {offset} bit {bit} of {Key(t)} flipped: read {read?.Length} bytes{(read is not null && !read.AsSpan().SequenceEqual(values[t]) ? " OTHER THAN THE VALUE" : string.Empty)}");
            Assert.Null(cache.Get(Key(t)));
            var warnings = Warnings(logs, Key(t));
            Assert.True(warnings.Length >= warningsBefore + 2, $"{where} byte {offset} bit {bit}: a warning per read");
            if (where is "data" or "checksum")
            {
                Assert.Contains("checksum", warnings[^1].Message, StringComparison.Ordinal);
            }

            // The warning names the cache key and says why, never what the value holds.
            Assert.DoesNotContain("\"name\"", warnings[^1].Message, StringComparison.Ordinal);
            Assert.DoesNotContain(Convert.ToHexString(values[t].AsSpan(0, 8)), warnings[^1].Message, StringComparison.OrdinalIgnoreCase);
            output.WriteLine($"{where,-8} byte {offset,4} bit {bit}: miss; {warnings[^1].Message}");

            // Nothing else was touched: put back, it reads as the value.
            await db.StringSetRangeAsync(redisKey, offset, new[] { original });
            var restored = await cache.GetAsync(Key(t));
            Assert.True(restored is not null, $"{Key(t)} restored reads as a miss; stored now {Convert.ToHexString(((byte[]?)await db.StringGetAsync(redisKey) ?? []).AsSpan(0, 48))} vs {Convert.ToHexString(payload.AsSpan(0, 48))}; log: {string.Join(" | ", logs.Records.TakeLast(3).Select(r => r.Message))}");
            Assert.Equal(values[t], restored);
        }

        Assert.InRange(raw, 1, targets.Count - 1); // both codecs were damaged
        Assert.Equal(0, cache.GetStatistics().PendingFences);
    }

    [Fact]
    public async Task A_format_1_payload_reads_as_a_miss_and_the_next_set_replaces_it()
    {
        var instance = $"v1-{Guid.NewGuid():N}:";
        var logs = new CollectingLoggerProvider();
        await using var provider = Caches.Build(server.ConnectionString, instance, 1024 * 1024, Caches.Patient, logs: logs);
        var cache = provider.GetRequiredService<ZsDistributedCache>();
        await Caches.WarmUpAsync(cache);
        await using var direct = await ConnectionMultiplexer.ConnectAsync(server.ConnectionString);
        var db = direct.GetDatabase();

        // A format 1 payload is the format 2 one with version byte 1 and no checksum.
        var old = Caches.Value(7, maxBytes: 2000);
        await cache.SetAsync("k", old, Caches.NoExpiry);
        await cache.ReclaimAsync(1024);
        var payload = (byte[])(await db.StringGetAsync(instance + "k"))!;
        payload[2] = 1;
        await db.StringSetAsync(instance + "k", payload[..^ChecksumLength]);

        Assert.Null(await cache.GetAsync("k"));
        Assert.Contains(Warnings(logs, "k"), w => w.Message.Contains("format version 1", StringComparison.Ordinal));

        var value = Caches.Value(8, maxBytes: 2000);
        await cache.SetAsync("k", value, Caches.NoExpiry);
        await Caches.DrainFencesAsync(cache, TimeSpan.FromSeconds(10));
        await cache.ReclaimAsync(1024);
        Assert.Equal(2, ((byte[])(await db.StringGetRangeAsync(instance + "k", 2, 2))!)[0]);
        Assert.Equal(value, await cache.GetAsync("k"));
    }

    private static string Key(int t) => "k" + t.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static LogRecord[] Warnings(CollectingLoggerProvider logs, string key) =>
        logs.Records.Where(r => r.EventId.Id == 7 && r.Level == LogLevel.Warning && r.Category.EndsWith("RedisWritebackTier", StringComparison.Ordinal)
            && r.Message.Contains($"under {key} ", StringComparison.Ordinal)).ToArray();
}

/// <summary><see cref="DamagedPayloadTests"/> on redis-server (or Garnet when it is not installed).</summary>
public sealed class RedisServerDamagedPayloadTests(RedisServerFixture server, ITestOutputHelper output)
    : DamagedPayloadTests(server, output), IClassFixture<RedisServerFixture>;

/// <summary><see cref="DamagedPayloadTests"/> on the embedded Garnet server.</summary>
public sealed class GarnetDamagedPayloadTests(GarnetServerFixture server, ITestOutputHelper output)
    : DamagedPayloadTests(server, output), IClassFixture<GarnetServerFixture>;
