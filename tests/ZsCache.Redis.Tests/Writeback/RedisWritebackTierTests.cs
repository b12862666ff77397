using System.Diagnostics;
using StackExchange.Redis;
using Xunit.Abstractions;
using ZsCache.Redis.Internal;
using ZsCache.Testing.Redis;
using ZsCache.Writeback;

namespace ZsCache.Redis.Tests.Writeback;

/// <summary>The tier against redis-server (or Garnet when it is not installed).</summary>
public sealed class RedisWritebackTierTests(RedisServerFixture server, ITestOutputHelper output)
    : WritebackTierTests(server, output), IClassFixture<RedisServerFixture>;

/// <summary>The same tests against the embedded Garnet server, whatever is installed: every script path on Garnet.</summary>
public sealed class GarnetWritebackTierTests(GarnetServerFixture server, ITestOutputHelper output)
    : WritebackTierTests(server, output), IClassFixture<GarnetServerFixture>;

public abstract class WritebackTierTests(RedisServerFixture server, ITestOutputHelper output)
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    [Fact]
    public async Task Batch_write_then_read_back_is_byte_identical_with_header_fields()
    {
        await using var h = await TierHarness.CreateAsync(server.ConnectionString);
        var random = new Random(1);
        var items = Enumerable.Range(0, 64).Select(i =>
        {
            var data = new byte[random.Next(0, 5000)];
            random.NextBytes(data);
            var lz4 = i % 2 == 1 && data.Length > 0;
            return TierHarness.Item(
                $"batch-{i}",
                version: 1000 + i,
                data: data,
                codec: lz4 ? ZsCodec.Lz4 : ZsCodec.Raw,
                originalLength: lz4 ? data.Length * 3 : data.Length,
                dictionary: lz4 ? (byte)2 : (byte)0,
                absolute: i % 3 == 0 ? null : Now.AddHours(1),
                sliding: i % 4 == 0 ? TimeSpan.FromMinutes(30) : null);
        }).ToArray();

        await h.Tier.WriteAsync(items, CancellationToken.None);

        Assert.All(items, item => Assert.Equal(ZsWritebackOutcome.Written, item.Outcome));
        foreach (var item in items)
        {
            var value = await h.Tier.ReadAsync(item.Key, Now, CancellationToken.None);
            Assert.NotNull(value);
            Assert.Equal(item.Data.ToArray(), value.Data.ToArray());
            Assert.Equal(item.Version, value.Version);
            Assert.Equal(item.Codec, value.Codec);
            Assert.Equal(item.DictionaryId, value.DictionaryId);
            Assert.Equal(item.OriginalLength, value.OriginalLength);
            Assert.Equal(item.AbsoluteExpiration?.ToUnixTimeMilliseconds(), value.AbsoluteExpiration?.ToUnixTimeMilliseconds());
            Assert.Equal(item.SlidingExpiration, value.SlidingExpiration);
        }

        // Stored under InstanceName + key, as RedisCache names its keys.
        Assert.True(await h.Db.KeyExistsAsync(h.Prefix + "batch-0"));
    }

    [Fact]
    public async Task Write_batch_round_trip_figure()
    {
        await using var h = await TierHarness.CreateAsync(server.ConnectionString);
        var data = new byte[1024];
        new Random(5).NextBytes(data);
        var times = new List<double>();
        await h.WriteOneAsync(TierHarness.Item("fig-warmup", 1)); // connect and JIT outside the figures
        for (var round = 0; round < 30; round++)
        {
            var items = Enumerable.Range(0, 64).Select(i => TierHarness.Item($"fig-{i}", version: (round * 100) + i + 1, data: data)).ToArray();
            var watch = Stopwatch.StartNew();
            await h.Tier.WriteAsync(items, CancellationToken.None);
            times.Add(watch.Elapsed.TotalMilliseconds);
            Assert.All(items, item => Assert.Equal(ZsWritebackOutcome.Written, item.Outcome));
        }

        times.Sort();
        output.WriteLine($"{server.Kind}: 64 x 1 KiB write batch, median {times[times.Count / 2]:F2} ms, best {times[0]:F2} ms, worst {times[^1]:F2} ms (30 rounds after a warm-up)");
    }

    [Fact]
    public async Task Time_to_live_is_the_items_TimeToLive()
    {
        await using var h = await TierHarness.CreateAsync(server.ConnectionString);
        Assert.Equal(ZsWritebackOutcome.Written, await h.WriteOneAsync(TierHarness.Item("ttl", 1, ttl: TimeSpan.FromSeconds(90))));
        var ttl = await h.Db.KeyTimeToLiveAsync(h.Key("ttl"));
        Assert.InRange(ttl!.Value, TimeSpan.FromSeconds(80), TimeSpan.FromSeconds(90));
    }

    [Fact]
    public async Task An_entry_that_never_expires_is_stored_without_a_ttl_and_orders_with_fences()
    {
        await using var h = await TierHarness.CreateAsync(server.ConnectionString);

        // The cache hands over an entry that never expires with TimeSpan.MaxValue: no PX at all
        // (Garnet refuses PX 922337203685478, and it means nothing anyway).
        Assert.Equal(ZsWritebackOutcome.Written, await h.WriteOneAsync(TierHarness.Item("forever", 5, ttl: TimeSpan.MaxValue)));
        Assert.Null(await h.Db.KeyTimeToLiveAsync(h.Key("forever")));
        Assert.True(await h.Db.KeyExistsAsync(h.Key("forever")));
        Assert.NotNull(await h.Tier.ReadAsync("forever", Now, CancellationToken.None));
        Assert.True(await h.Tier.RefreshAsync("forever", Now, CancellationToken.None));

        // An older fence leaves it, persistent, in place: it keeps older writes out for good.
        Assert.True(await h.Tier.FenceAsync("forever", 3, CancellationToken.None));
        Assert.Null(await h.Db.KeyTimeToLiveAsync(h.Key("forever")));
        Assert.NotNull(await h.Tier.ReadAsync("forever", Now, CancellationToken.None));
        Assert.Equal(ZsWritebackOutcome.Superseded, await h.WriteOneAsync(TierHarness.Item("forever", 4, ttl: TimeSpan.MaxValue)));

        // A newer fence replaces it for the fence lifetime; the Set of the fence's version then
        // stores its value, again without expiry (it outlives the fence).
        Assert.True(await h.Tier.FenceAsync("forever", 8, CancellationToken.None));
        Assert.InRange((await h.Db.KeyTimeToLiveAsync(h.Key("forever")))!.Value, TimeSpan.FromSeconds(1), h.Tier.FenceLifetime);
        Assert.Equal(ZsWritebackOutcome.Written, await h.WriteOneAsync(TierHarness.Item("forever", 8, data: [8], ttl: TimeSpan.MaxValue)));
        Assert.Null(await h.Db.KeyTimeToLiveAsync(h.Key("forever")));
        Assert.Equal([8], (await h.Tier.ReadAsync("forever", Now, CancellationToken.None))!.Data.ToArray());
        Assert.Empty(h.Warnings(4));
    }

    [Fact]
    public async Task Times_to_live_beyond_a_century_are_clamped_for_every_server()
    {
        await using var h = await TierHarness.CreateAsync(server.ConnectionString);
        var century = TimeSpan.FromMilliseconds(RedisWritebackTier.MaxTimeToLiveMs);
        var far = DateTimeOffset.MaxValue.AddDays(-1);
        Assert.Equal(ZsWritebackOutcome.Written, await h.WriteOneAsync(TierHarness.Item("far", 1, ttl: far - Now, absolute: far)));
        Assert.Equal(ZsWritebackOutcome.Written, await h.WriteOneAsync(TierHarness.Item("slide", 1, ttl: TimeSpan.FromDays(1000 * 365), sliding: TimeSpan.FromDays(1000 * 365))));
        Assert.Equal(ZsWritebackOutcome.Written, await h.WriteOneAsync(TierHarness.Item("max", 1, ttl: TimeSpan.MaxValue - TimeSpan.FromTicks(1), sliding: TimeSpan.MaxValue)));
        foreach (var key in new[] { "far", "slide", "max" })
        {
            Assert.InRange((await h.Db.KeyTimeToLiveAsync(h.Key(key)))!.Value, century - TimeSpan.FromMinutes(1), century);
        }

        // The renewals of a read and of Refresh are clamped the same way.
        Assert.NotNull(await h.Tier.ReadAsync("slide", Now, CancellationToken.None));
        Assert.True(await h.Tier.RefreshAsync("slide", Now, CancellationToken.None));
        Assert.True(await h.Tier.RefreshAsync("max", Now, CancellationToken.None));
        Assert.InRange((await h.Db.KeyTimeToLiveAsync(h.Key("max")))!.Value, century - TimeSpan.FromMinutes(1), century);
        Assert.Empty(h.Warnings(4));
        Assert.Empty(h.Warnings(9));
    }

    [Fact]
    public async Task A_format_1_payload_is_ordered_by_its_version_and_never_served()
    {
        await using var h = await TierHarness.CreateAsync(server.ConnectionString);

        // Format 1: the same bytes 0..15 (version byte 1), no checksum.
        static byte[] Format1(byte[] v2, bool fence)
        {
            var v1 = fence ? (byte[])v2.Clone() : v2[..^RedisPayload.ChecksumLength];
            v1[2] = 1;
            return v1;
        }

        await h.Db.StringSetAsync(h.Key("v1"), Format1(RedisPayload.Encode(TierHarness.Item("v1", 10)), fence: false));
        Assert.Null(await h.Tier.ReadAsync("v1", Now, CancellationToken.None));
        Assert.False(await h.Tier.RefreshAsync("v1", Now, CancellationToken.None));
        Assert.Contains(h.Warnings(7), w => w.Message.Contains("format version 1", StringComparison.Ordinal));

        // An older write is superseded by it, as by any newer value; a newer write replaces it.
        Assert.Equal(ZsWritebackOutcome.Superseded, await h.WriteOneAsync(TierHarness.Item("v1", 9)));
        Assert.Equal(ZsWritebackOutcome.Written, await h.WriteOneAsync(TierHarness.Item("v1", 11, data: [11])));
        Assert.Equal([11], (await h.Tier.ReadAsync("v1", Now, CancellationToken.None))!.Data.ToArray());

        // A format 1 fence still keeps older writes out.
        await h.Db.StringSetAsync(h.Key("v1-fence"), Format1(RedisPayload.EncodeFence(20), fence: true), TimeSpan.FromMinutes(1));
        Assert.Equal(ZsWritebackOutcome.Superseded, await h.WriteOneAsync(TierHarness.Item("v1-fence", 19)));
        Assert.Equal(ZsWritebackOutcome.Written, await h.WriteOneAsync(TierHarness.Item("v1-fence", 21, data: [21])));
        Assert.Equal([21], (await h.Tier.ReadAsync("v1-fence", Now, CancellationToken.None))!.Data.ToArray());
    }

    [Fact]
    public async Task Fence_supersedes_an_older_value_and_blocks_a_later_older_write()
    {
        await using var h = await TierHarness.CreateAsync(server.ConnectionString);
        Assert.Equal(ZsWritebackOutcome.Written, await h.WriteOneAsync(TierHarness.Item("k", 5)));

        Assert.True(await h.Tier.FenceAsync("k", 8, CancellationToken.None));
        Assert.Null(await h.Tier.ReadAsync("k", Now, CancellationToken.None));
        var fenceTtl = await h.Db.KeyTimeToLiveAsync(h.Key("k"));
        Assert.InRange(fenceTtl!.Value, h.Tier.FenceLifetime - TimeSpan.FromSeconds(10), h.Tier.FenceLifetime);

        // The stale writeback of version 5 arrives after the fence: a no-op.
        Assert.Equal(ZsWritebackOutcome.Superseded, await h.WriteOneAsync(TierHarness.Item("k", 5)));
        Assert.Equal(ZsWritebackOutcome.Superseded, await h.WriteOneAsync(TierHarness.Item("k", 7)));
        Assert.Null(await h.Tier.ReadAsync("k", Now, CancellationToken.None));

        // The Set whose fence went first stores its own version.
        Assert.Equal(ZsWritebackOutcome.Written, await h.WriteOneAsync(TierHarness.Item("k", 8, data: [8])));
        Assert.Equal([8], (await h.Tier.ReadAsync("k", Now, CancellationToken.None))!.Data.ToArray());
        Assert.Equal(ZsWritebackOutcome.Superseded, await h.WriteOneAsync(TierHarness.Item("k", 7)));
    }

    [Fact]
    public async Task A_fence_on_a_missing_key_blocks_older_writes_too()
    {
        await using var h = await TierHarness.CreateAsync(server.ConnectionString);
        Assert.True(await h.Tier.FenceAsync("never-written", 3, CancellationToken.None));
        Assert.Equal(ZsWritebackOutcome.Superseded, await h.WriteOneAsync(TierHarness.Item("never-written", 2)));
        Assert.Equal(ZsWritebackOutcome.Written, await h.WriteOneAsync(TierHarness.Item("never-written", 4)));
    }

    [Fact]
    public async Task Newer_value_wins_and_a_repeated_write_of_the_same_version_is_written()
    {
        await using var h = await TierHarness.CreateAsync(server.ConnectionString);
        Assert.Equal(ZsWritebackOutcome.Written, await h.WriteOneAsync(TierHarness.Item("v", 10, data: [10])));
        Assert.Equal(ZsWritebackOutcome.Superseded, await h.WriteOneAsync(TierHarness.Item("v", 9, data: [9])));
        Assert.Equal(ZsWritebackOutcome.Written, await h.WriteOneAsync(TierHarness.Item("v", 10, data: [10])));
        Assert.Equal(ZsWritebackOutcome.Written, await h.WriteOneAsync(TierHarness.Item("v", 11, data: [11])));
        Assert.Equal([11], (await h.Tier.ReadAsync("v", Now, CancellationToken.None))!.Data.ToArray());

        // An older fence leaves the newer value alone.
        Assert.True(await h.Tier.FenceAsync("v", 10, CancellationToken.None));
        Assert.Equal([11], (await h.Tier.ReadAsync("v", Now, CancellationToken.None))!.Data.ToArray());
    }

    [Fact]
    public async Task A_fence_outlives_a_newer_value_that_expires_sooner()
    {
        await using var h = await TierHarness.CreateAsync(server.ConnectionString);

        // A sliding value's deadline is its Redis TTL alone: it gives way to a fence of version
        // 10, which holds the key for the fence lifetime instead of letting a stale version 5 in
        // after 3 s.
        Assert.Equal(ZsWritebackOutcome.Written, await h.WriteOneAsync(TierHarness.Item("soon", 10, ttl: TimeSpan.FromSeconds(3), sliding: TimeSpan.FromSeconds(3))));
        Assert.True(await h.Tier.FenceAsync("soon", 8, CancellationToken.None));
        var ttl = await h.Db.KeyTimeToLiveAsync(h.Key("soon"));
        Assert.True(ttl > TimeSpan.FromSeconds(10), $"ttl {ttl}");
        Assert.Null(await h.Tier.ReadAsync("soon", Now, CancellationToken.None));
        Assert.Equal(ZsWritebackOutcome.Superseded, await h.WriteOneAsync(TierHarness.Item("soon", 5)));
        Assert.Equal(ZsWritebackOutcome.Written, await h.WriteOneAsync(TierHarness.Item("soon", 10)));

        // A value whose header holds its whole expiry stays readable (a store that bypassed the
        // pool, fenced at its own version, must not be lost): the key lives as long as the fence
        // would, and readers still miss it past its absolute expiration.
        Assert.Equal(ZsWritebackOutcome.Written, await h.WriteOneAsync(TierHarness.Item("fixed", 10, ttl: TimeSpan.FromSeconds(3), absolute: Now.AddSeconds(3))));
        Assert.True(await h.Tier.FenceAsync("fixed", 10, CancellationToken.None));
        ttl = await h.Db.KeyTimeToLiveAsync(h.Key("fixed"));
        Assert.True(ttl > TimeSpan.FromSeconds(10), $"ttl {ttl}");
        Assert.NotNull(await h.Tier.ReadAsync("fixed", Now, CancellationToken.None));
        Assert.Null(await h.Tier.ReadAsync("fixed", Now.AddSeconds(4), CancellationToken.None));
        Assert.Equal(ZsWritebackOutcome.Superseded, await h.WriteOneAsync(TierHarness.Item("fixed", 5)));

        // A fence of a newer version is kept longer too.
        Assert.True(await h.Tier.FenceAsync("fenced", 10, CancellationToken.None));
        await h.Db.KeyExpireAsync(h.Key("fenced"), TimeSpan.FromSeconds(2));
        Assert.True(await h.Tier.FenceAsync("fenced", 8, CancellationToken.None));
        Assert.True(await h.Db.KeyTimeToLiveAsync(h.Key("fenced")) > TimeSpan.FromSeconds(10));
        Assert.Equal(ZsWritebackOutcome.Superseded, await h.WriteOneAsync(TierHarness.Item("fenced", 9)));
    }

    [Fact]
    public async Task A_value_replacing_a_fence_keeps_the_key_as_long_as_the_fence_unless_it_slides()
    {
        await using var h = await TierHarness.CreateAsync(server.ConnectionString);
        Assert.True(await h.Tier.FenceAsync("fixed", 8, CancellationToken.None));
        Assert.Equal(ZsWritebackOutcome.Written, await h.WriteOneAsync(TierHarness.Item("fixed", 9, ttl: TimeSpan.FromSeconds(2), absolute: Now.AddSeconds(2))));
        Assert.True(await h.Db.KeyTimeToLiveAsync(h.Key("fixed")) > TimeSpan.FromSeconds(10));
        Assert.NotNull(await h.Tier.ReadAsync("fixed", Now, CancellationToken.None));
        // Past its absolute expiration (by the cache's clock) it reads as a miss whatever Redis still holds.
        Assert.Null(await h.Tier.ReadAsync("fixed", Now.AddSeconds(3), CancellationToken.None));

        Assert.True(await h.Tier.FenceAsync("sliding", 8, CancellationToken.None));
        Assert.Equal(ZsWritebackOutcome.Written, await h.WriteOneAsync(TierHarness.Item("sliding", 9, ttl: TimeSpan.FromSeconds(2), sliding: TimeSpan.FromSeconds(2))));
        Assert.True(await h.Db.KeyTimeToLiveAsync(h.Key("sliding")) <= TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task Read_renews_a_sliding_window_up_to_the_absolute_expiration()
    {
        await using var h = await TierHarness.CreateAsync(server.ConnectionString);
        // Idle for a while before writeback: only 1 minute of its 10-minute window is left.
        await h.WriteOneAsync(TierHarness.Item("slide", 1, ttl: TimeSpan.FromMinutes(1), sliding: TimeSpan.FromMinutes(10)));
        await h.WriteOneAsync(TierHarness.Item("capped", 1, ttl: TimeSpan.FromMinutes(1), sliding: TimeSpan.FromMinutes(10), absolute: Now.AddMinutes(4)));

        Assert.NotNull(await h.Tier.ReadAsync("slide", Now, CancellationToken.None));
        Assert.NotNull(await h.Tier.ReadAsync("capped", Now, CancellationToken.None));

        Assert.InRange((await h.Db.KeyTimeToLiveAsync(h.Key("slide")))!.Value, TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(10));
        Assert.InRange((await h.Db.KeyTimeToLiveAsync(h.Key("capped")))!.Value, TimeSpan.FromMinutes(3), TimeSpan.FromMinutes(4));
    }

    [Fact]
    public async Task Refresh_renews_a_sliding_window_without_reading_and_reports_misses()
    {
        await using var h = await TierHarness.CreateAsync(server.ConnectionString);
        await h.WriteOneAsync(TierHarness.Item("r", 1, data: new byte[100_000], ttl: TimeSpan.FromMinutes(1), sliding: TimeSpan.FromMinutes(10)));
        Assert.True(await h.Tier.RefreshAsync("r", Now, CancellationToken.None));
        Assert.InRange((await h.Db.KeyTimeToLiveAsync(h.Key("r")))!.Value, TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(10));

        await h.WriteOneAsync(TierHarness.Item("fixed", 1, ttl: TimeSpan.FromMinutes(1)));
        Assert.True(await h.Tier.RefreshAsync("fixed", Now, CancellationToken.None));
        Assert.True(await h.Db.KeyTimeToLiveAsync(h.Key("fixed")) <= TimeSpan.FromMinutes(1));

        Assert.False(await h.Tier.RefreshAsync("missing", Now, CancellationToken.None));
        await h.Tier.FenceAsync("fenced", 1, CancellationToken.None);
        Assert.False(await h.Tier.RefreshAsync("fenced", Now, CancellationToken.None));
    }

    [Fact]
    public async Task Values_past_their_absolute_expiration_read_as_misses()
    {
        await using var h = await TierHarness.CreateAsync(server.ConnectionString);
        await h.WriteOneAsync(TierHarness.Item("old", 1, absolute: Now.AddMinutes(1), ttl: TimeSpan.FromMinutes(1)));
        Assert.NotNull(await h.Tier.ReadAsync("old", Now, CancellationToken.None));
        Assert.Null(await h.Tier.ReadAsync("old", Now.AddMinutes(2), CancellationToken.None));
        Assert.False(await h.Tier.RefreshAsync("old", Now.AddMinutes(2), CancellationToken.None));
    }

    [Fact]
    public async Task Payloads_on_either_side_of_the_first_read_come_back_whole_and_only_longer_ones_run_the_script()
    {
        await using var h = await TierHarness.CreateAsync(server.ConnectionString, maxValueBytes: 1024 * 1024);
        var fits = RedisWritebackTier.FirstReadBytes - RedisPayload.HeaderLength - RedisPayload.ChecksumLength;
        var random = new Random(11);
        var cases = new Dictionary<string, byte[]>
        {
            ["small"] = new byte[100],
            ["exact-fit"] = new byte[fits],
            ["one-over"] = new byte[fits + 1],
            ["long"] = new byte[3 * RedisWritebackTier.FirstReadBytes],
        };
        foreach (var (key, data) in cases)
        {
            random.NextBytes(data);
            Assert.Equal(ZsWritebackOutcome.Written, await h.WriteOneAsync(TierHarness.Item(key, 1, data: data)));
        }

        // A foreign string longer than the first read but not than the cap, and one longer than the cap.
        await h.Db.StringSetAsync(h.Key("foreign-long"), new byte[RedisWritebackTier.FirstReadBytes + 10]);
        await h.Db.StringSetAsync(h.Key("foreign-huge"), new byte[(2 * 1024 * 1024) + 1]);

        foreach (var (key, data) in cases)
        {
            var scriptsBefore = await ScriptCallsAsync();
            var value = await h.Tier.ReadAsync(key, Now, CancellationToken.None);
            Assert.NotNull(value);
            Assert.Equal(data, value.Data.ToArray());
            if (scriptsBefore is { } before)
            {
                var ran = await ScriptCallsAsync() - before;
                Assert.Equal(key is "one-over" or "long" ? 1 : 0, ran);
            }
        }

        Assert.Null(await h.Tier.ReadAsync("foreign-long", Now, CancellationToken.None));
        Assert.Null(await h.Tier.ReadAsync("foreign-huge", Now, CancellationToken.None));
        var warnings = h.Warnings(7);
        Assert.Contains(warnings, w => w.Message.Contains("foreign-long", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Message.Contains("foreign-huge", StringComparison.Ordinal) && w.Message.Contains("more than any payload", StringComparison.Ordinal));
    }

    [Fact]
    public async Task With_a_cap_below_the_first_read_nothing_past_the_cap_is_fetched_or_accepted()
    {
        // MaxValueBytes 1000: the largest payload is far below 64 KiB, so the first read asks
        // for one byte past it, and a longer string is answered by the script with its length.
        await using var h = await TierHarness.CreateAsync(server.ConnectionString, maxValueBytes: 1000);
        var cap = (int)h.Tier.ReadCap;
        Assert.True(cap < RedisWritebackTier.FirstReadBytes);

        // The largest payload there can be: LZ4 data of n + n/255 + 16 bytes for n = 1000.
        var data = new byte[1000 + (1000 / 255) + 16];
        new Random(12).NextBytes(data);
        Assert.Equal(ZsWritebackOutcome.Written, await h.WriteOneAsync(TierHarness.Item("largest", 1, data: data, codec: ZsCodec.Lz4, originalLength: 1000)));
        Assert.Equal(cap, (int)await h.Db.StringLengthAsync(h.Key("largest")));
        Assert.Equal(data, (await h.Tier.ReadAsync("largest", Now, CancellationToken.None))!.Data.ToArray());

        foreach (var length in new[] { cap + 1, 10 * 1024 })
        {
            var key = $"foreign-{length}";
            await h.Db.StringSetAsync(h.Key(key), new byte[length]);
            Assert.Null(await h.Tier.ReadAsync(key, Now, CancellationToken.None));
            Assert.Contains(h.Warnings(7), w => w.Message.Contains(key, StringComparison.Ordinal) && w.Message.Contains("more than any payload", StringComparison.Ordinal));
        }
    }

    /// <summary>EVALSHA and EVAL calls the server has counted, or null where it keeps no such count.</summary>
    private async Task<long?> ScriptCallsAsync()
    {
        if (server.Kind != RedisServerKind.RedisServer)
        {
            return null;
        }

        var stats = await server.ExecuteAsync("INFO", "commandstats") ?? "";
        long calls = 0;
        foreach (var line in stats.Split('\n'))
        {
            if (line.StartsWith("cmdstat_evalsha:", StringComparison.Ordinal) || line.StartsWith("cmdstat_eval:", StringComparison.Ordinal))
            {
                var start = line.IndexOf("calls=", StringComparison.Ordinal) + 6;
                calls += long.Parse(line[start..line.IndexOf(',', start)], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return calls;
    }

    [Fact]
    public async Task Bad_bytes_under_the_prefix_read_as_a_miss_with_a_warning()
    {
        // 1 MiB cap: anything longer than a payload of that size is never fetched.
        await using var h = await TierHarness.CreateAsync(server.ConnectionString, maxValueBytes: 1024 * 1024);
        var valid = RedisPayload.Encode(TierHarness.Item("x", 1, data: new byte[64]));
        var damaged = (byte[])valid.Clone();
        damaged[RedisPayload.HeaderLength + 10] ^= 0x10;
        var huge = (byte[])valid.Clone();
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(huge.AsSpan(16), int.MaxValue);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(huge.AsSpan(20), int.MaxValue);
        var planted = new Dictionary<string, byte[]>
        {
            ["foreign"] = "{\"json\":\"from another app\"}"u8.ToArray(),
            ["truncated"] = valid[..(valid.Length - 1)],
            ["header-only"] = valid[..RedisPayload.HeaderLength],
            ["no-checksum"] = valid[..^RedisPayload.ChecksumLength],
            ["damaged"] = damaged,
            ["format-1"] = [.. valid[..2], 1, .. valid[3..^RedisPayload.ChecksumLength]],
            ["huge-length"] = huge,
            ["bad-codec"] = [.. valid[..4], 0x42, .. valid[5..]],
            ["huge-value"] = new byte[(2 * 1024 * 1024) + 1],
        };
        foreach (var (key, bytes) in planted)
        {
            await h.Db.StringSetAsync(h.Key(key), bytes);
        }

        await h.Db.HashSetAsync(h.Key("hash"), "data", "RedisCache-style");

        foreach (var key in planted.Keys.Append("hash"))
        {
            Assert.Null(await h.Tier.ReadAsync(key, Now, CancellationToken.None));

            // Refresh reads the header and the length, not the data the checksum covers: a
            // damaged value with an intact header is renewed (harmless: every read refuses it).
            Assert.Equal(key == "damaged", await h.Tier.RefreshAsync(key, Now, CancellationToken.None));
        }

        var warnings = h.Warnings(7);
        foreach (var key in planted.Keys.Append("hash"))
        {
            Assert.Contains(warnings, w => w.Message.Contains(key, StringComparison.Ordinal));
        }

        Assert.Contains(warnings, w => w.Message.Contains("under damaged ", StringComparison.Ordinal) && w.Message.Contains("checksum", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Message.Contains("under format-1 ", StringComparison.Ordinal) && w.Message.Contains("format version 1", StringComparison.Ordinal));

        // The reason gives lengths and the failed check, never the bytes found.
        Assert.All(warnings, w => Assert.DoesNotContain("RedisCache-style", w.Message, StringComparison.Ordinal));
        Assert.All(warnings, w => Assert.DoesNotContain("another app", w.Message, StringComparison.Ordinal));

        // A write over a foreign value of our prefix replaces it.
        Assert.Equal(ZsWritebackOutcome.Written, await h.WriteOneAsync(TierHarness.Item("hash", 1)));
        Assert.NotNull(await h.Tier.ReadAsync("hash", Now, CancellationToken.None));
    }

    [Fact]
    public async Task Writes_past_their_deadline_are_refused_by_the_server()
    {
        await using var h = await TierHarness.CreateAsync(server.ConnectionString);
        var payload = RedisPayload.Encode(TierHarness.Item("late", 1));
        var past = DateTimeOffset.UtcNow.AddSeconds(-1).ToUnixTimeMilliseconds();
        var result = await h.Db.ScriptEvaluateAsync(RedisScripts.Write, [h.Key("late")], [payload, 60_000, "1", past]);
        Assert.Equal(-1, (int)result);
        Assert.False(await h.Db.KeyExistsAsync(h.Key("late")));
    }

    [Fact]
    public async Task Programming_errors_throw_and_nothing_is_sent()
    {
        await using var h = await TierHarness.CreateAsync(server.ConnectionString);
        var valid = TierHarness.Item("bad", 1, ttl: TimeSpan.FromSeconds(1));
        var items = new[] { TierHarness.Item("good", 1), new ZsWritebackItem { Key = "bad", Version = 1, Codec = ZsCodec.Raw, OriginalLength = 0, Data = default, TimeToLive = TimeSpan.Zero } };
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await h.Tier.WriteAsync(items, CancellationToken.None));
        Assert.False(await h.Db.KeyExistsAsync(h.Key("good")));
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await h.Tier.ReadAsync(null!, Now, CancellationToken.None));
        Assert.Equal(ZsWritebackOutcome.Written, await h.WriteOneAsync(valid));
    }
}
