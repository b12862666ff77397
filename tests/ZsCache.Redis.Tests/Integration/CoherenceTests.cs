using System.Text;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;
using Xunit.Abstractions;
using ZsCache.Redis.Internal;
using ZsCache.Testing.Logging;
using ZsCache.Testing.Redis;

namespace ZsCache.Redis.Tests.Integration;

/// <summary>
/// Two caches sharing one redis-server and one InstanceName, as two instances of a web app do:
/// a Set or Remove on one takes the older copy out of the other's pool, not only out of Redis
/// (CONTRACT.md: no later read, on this instance or another sharing the tier, returns the older
/// value). Both run on one fake clock, stepped between writes, so their versions are ordered as
/// the writes are; the fence messages themselves travel through the real server.
/// </summary>
public sealed class CoherenceTests(RedisServerFixture redis, ITestOutputHelper output) : IClassFixture<RedisServerFixture>
{
    private const long Pool = 4L * 1024 * 1024;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task A_set_on_one_instance_takes_the_older_value_out_of_the_other_instances_pool()
    {
        var (time, instance) = Shared();
        await using var a = Build(instance, time);
        await using var b = Build(instance, time);
        var (cacheA, cacheB) = (Cache(a), Cache(b));
        await WarmUpAsync(cacheA, cacheB);

        await cacheB.SetAsync("k", Bytes("old"), Caches.NoExpiry);
        await Caches.DrainFencesAsync(cacheB, Bound);
        time.Advance(TimeSpan.FromMilliseconds(1));
        await cacheA.SetAsync("k", Bytes("new"), Caches.NoExpiry);

        Assert.True(await Caches.WaitUntilAsync(() => cacheB.GetStatistics().EntriesInvalidated == 1, Bound), "B heard of A's Set");
        Assert.Null(await cacheB.GetAsync("k"));

        // Once A writes its value back, B reads the new value from Redis.
        await cacheA.ReclaimAsync(64);
        Assert.Equal(1, cacheA.GetStatistics().EntriesWrittenBack);
        Assert.Equal("new", Text(await cacheB.GetAsync("k")));
        Assert.Equal("new", Text(await cacheA.GetAsync("k")));
    }

    [Fact]
    public async Task A_remove_on_one_instance_takes_a_faulted_in_copy_out_of_the_other_instances_pool()
    {
        var (time, instance) = Shared();
        await using var a = Build(instance, time);
        await using var b = Build(instance, time);
        var (cacheA, cacheB) = (Cache(a), Cache(b));
        await WarmUpAsync(cacheA, cacheB);

        await cacheA.SetAsync("k", Bytes("v1"), Caches.NoExpiry);
        await Caches.DrainFencesAsync(cacheA, Bound);
        await cacheA.ReclaimAsync(64);

        // A fault-in is not admitted when the key's shard changed while it read, as the message of
        // A's own Set may still be arriving; read until the copy is in B's pool.
        var admitted = await Caches.WaitUntilAsync(
            async () =>
            {
                Assert.Equal("v1", Text(await cacheB.GetAsync("k")));
                return cacheB.GetStatistics().EntriesInPool == 1;
            },
            Bound);
        Assert.True(admitted, "B holds the copy in its pool");

        time.Advance(TimeSpan.FromMilliseconds(1));
        await cacheA.RemoveAsync("k");

        Assert.True(await Caches.WaitUntilAsync(() => cacheB.GetStatistics().EntriesInPool == 0, Bound), "B dropped its copy");
        Assert.Equal(1, cacheB.GetStatistics().EntriesInvalidated);
        Assert.Null(await cacheB.GetAsync("k"));
        Assert.Null(await cacheA.GetAsync("k"));
    }

    [Fact]
    public async Task A_newer_set_survives_the_fence_of_an_older_one_and_wins_on_both_instances()
    {
        var (time, instance) = Shared();
        await using var a = Build(instance, time);
        await using var b = Build(instance, time);
        var (cacheA, cacheB) = (Cache(a), Cache(b));
        await WarmUpAsync(cacheA, cacheB);
        var tierB = b.GetRequiredService<RedisWritebackTier>();
        var heardBefore = tierB.FencesHeard;

        // A's Set is older than B's, whichever fence reaches which instance first.
        await cacheA.SetAsync("k", Bytes("a"), Caches.NoExpiry);
        time.Advance(TimeSpan.FromMilliseconds(1));
        await cacheB.SetAsync("k", Bytes("b"), Caches.NoExpiry);

        Assert.True(await Caches.WaitUntilAsync(() => tierB.FencesHeard > heardBefore, Bound), "B heard of A's Set");
        Assert.True(await Caches.WaitUntilAsync(() => cacheA.GetStatistics().EntriesInvalidated == 1, Bound), "A heard of B's Set");
        Assert.Equal(0, cacheB.GetStatistics().EntriesInvalidated);
        Assert.Equal("b", Text(await cacheB.GetAsync("k")));
        Assert.Null(await cacheA.GetAsync("k"));

        await cacheB.ReclaimAsync(64);
        Assert.Equal("b", Text(await cacheA.GetAsync("k")));
    }

    [Fact]
    public async Task An_instance_does_not_drop_its_own_entries_when_its_own_fences_come_back()
    {
        var (time, instance) = Shared();
        await using var a = Build(instance, time);
        var cacheA = Cache(a);
        await WarmUpAsync(cacheA);

        // A message from another writer proves the subscription is live before the check.
        await using (var b = Build(instance, time))
        {
            var cacheB = Cache(b);
            await WarmUpAsync(cacheB);
            await cacheB.RemoveAsync("probe");
            var tierA = a.GetRequiredService<RedisWritebackTier>();
            Assert.True(await Caches.WaitUntilAsync(() => tierA.FencesHeard >= 1, Bound), "A hears other instances");
        }

        for (var i = 0; i < 20; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(1));
            await cacheA.SetAsync($"own{i}", Bytes($"v{i}"), Caches.NoExpiry);
        }

        await Caches.DrainFencesAsync(cacheA, Bound);
        Assert.Equal(0, cacheA.GetStatistics().EntriesInvalidated);
        Assert.Equal(20, cacheA.GetStatistics().EntriesInPool);
    }

    [Fact]
    public async Task Foreign_messages_on_the_fence_channel_drop_nothing_and_break_nothing()
    {
        var (time, instance) = Shared();
        var logs = new CollectingLoggerProvider();
        await using var a = Build(instance, time, logs);
        var cacheA = Cache(a);
        await WarmUpAsync(cacheA);
        await cacheA.SetAsync("k", Bytes("v"), Caches.NoExpiry);

        await using var direct = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var channel = RedisChannel.Literal(RedisWritebackTier.FenceChannelPrefix + instance);
        await direct.GetSubscriber().PublishAsync(channel, "not a fence");
        await direct.GetSubscriber().PublishAsync(channel, Array.Empty<byte>());
        var invalidUtf8 = new byte[8 + 16 + 2];
        invalidUtf8[7] = 1;
        invalidUtf8[^1] = 0xFF;
        invalidUtf8[^2] = 0xC3;
        await direct.GetSubscriber().PublishAsync(channel, invalidUtf8);

        var tier = (RedisWritebackTier)cacheA.Tier!;
        static bool IsReport(LogRecord e) => e.EventId.Id == 16 && e.Category.Contains("RedisWritebackTier", StringComparison.Ordinal);
        Assert.True(await Caches.WaitUntilAsync(() => tier.FenceMessagesRejected == 3 && logs.Records.Any(IsReport), Bound), "each foreign message was rejected and reported");
        Assert.Single(logs.Records, IsReport);
        Assert.Equal("v", Text(await cacheA.GetAsync("k")));
        Assert.Equal(0, cacheA.GetStatistics().EntriesInvalidated);
    }

    [SkippableFact]
    public async Task Fences_reach_the_other_instance_again_after_redis_restarts()
    {
        redis.SkipUnlessProcess();
        var (time, instance) = Shared();
        await using var a = Build(instance, time, tune: Caches.Quick);
        await using var b = Build(instance, time, tune: Caches.Quick);
        var (cacheA, cacheB) = (Cache(a), Cache(b));
        await WarmUpAsync(cacheA, cacheB);

        await redis.KillAsync();
        await redis.StartAsync();
        await WarmUpAsync(cacheA, cacheB);

        // The subscription comes back with the connection, a moment after commands do: a Set
        // made before it is back is missed (best effort), so each round uses a new key.
        var round = 0;
        var heard = await Caches.WaitUntilAsync(
            async () =>
            {
                var key = $"after-restart-{round++}";
                await cacheB.SetAsync(key, Bytes("old"), Caches.NoExpiry);
                time.Advance(TimeSpan.FromMilliseconds(1));
                await cacheA.RemoveAsync(key);
                return await Caches.WaitUntilAsync(() => cacheB.GetStatistics().EntriesInvalidated > 0, TimeSpan.FromSeconds(1));
            },
            Bound);
        output.WriteLine($"rounds until B heard A again: {round}");
        Assert.True(heard, "B hears A's fences after the restart");
    }

    [SkippableFact]
    public async Task An_instance_started_while_redis_was_down_hears_the_others_once_it_is_up()
    {
        redis.SkipUnlessProcess();
        var (time, instance) = Shared();
        await redis.KillAsync();
        ServiceProvider a;
        ServiceProvider b;
        try
        {
            a = Build(instance, time, tune: Caches.Quick);
            b = Build(instance, time, tune: Caches.Quick);
            var tierB = (RedisWritebackTier)Cache(b).Tier!;
            Assert.False(tierB.IsSubscribed);
        }
        finally
        {
            await redis.StartAsync();
        }

        await using (a)
        await using (b)
        {
            var (cacheA, cacheB) = (Cache(a), Cache(b));
            await WarmUpAsync(cacheA, cacheB);
            await cacheB.SetAsync("k", Bytes("old"), Caches.NoExpiry);
            time.Advance(TimeSpan.FromMilliseconds(1));
            await cacheA.RemoveAsync("k");
            Assert.True(await Caches.WaitUntilAsync(() => cacheB.GetStatistics().EntriesInvalidated == 1, Bound), "B heard A's Remove");
            Assert.Null(await cacheB.GetAsync("k"));
        }
    }

    [Fact]
    public void The_fence_message_round_trips_and_rejects_what_is_not_one()
    {
        Assert.False(RedisWritebackTier.TryDecodeFenceMessage([], out _, out _, out _));
        Assert.False(RedisWritebackTier.TryDecodeFenceMessage(new byte[23], out _, out _, out _));
        Assert.False(RedisWritebackTier.TryDecodeFenceMessage(new byte[24], out _, out _, out _), "version 0 is no version");
        var tooLong = new byte[24 + 65_536];
        tooLong[7] = 1;
        Assert.False(RedisWritebackTier.TryDecodeFenceMessage(tooLong, out _, out _, out _));

        var writer = Guid.NewGuid();
        var message = new byte[24 + Encoding.UTF8.GetByteCount("ключ🔑")];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(message, 42);
        writer.TryWriteBytes(message.AsSpan(8, 16));
        Encoding.UTF8.GetBytes("ключ🔑", message.AsSpan(24));
        Assert.True(RedisWritebackTier.TryDecodeFenceMessage(message, out var w, out var version, out var key));
        Assert.Equal(writer, w);
        Assert.Equal(42, version);
        Assert.Equal("ключ🔑", key);
    }

    /// <summary>
    /// The scenario other servers run too (Cluster, Garnet): for keys spread over the slots, B
    /// holds an older value in its pool (its own Set, or a copy faulted in), A sets or removes the
    /// key, and B's copy goes. Returns how many fences B heard.
    /// </summary>
    internal static async Task<long> SetsAndRemovesReachTheOtherPoolAsync(string configuration, int keys = 12)
    {
        var (time, instance) = Shared();
        await using var a = BuildFor(configuration, instance, time);
        await using var b = BuildFor(configuration, instance, time);
        var (cacheA, cacheB) = (Cache(a), Cache(b));
        await WarmUpAsync(cacheA, cacheB);

        for (var i = 0; i < keys; i++)
        {
            if (i % 2 == 0)
            {
                await cacheB.SetAsync($"s{i}", Bytes("old"), Caches.NoExpiry);
            }
            else
            {
                await cacheA.SetAsync($"s{i}", Bytes("old"), Caches.NoExpiry);
            }
        }

        await Caches.DrainFencesAsync(cacheA, Bound);
        await Caches.DrainFencesAsync(cacheB, Bound);
        await cacheA.ReclaimAsync(64);
        Assert.Equal(0, cacheA.GetStatistics().EntriesInPool);
        // A fault-in is not admitted when the key's shard changed while it read, as A's fences of
        // these very Sets may still be arriving; read until every copy is in B's pool.
        var admitted = await Caches.WaitUntilAsync(
            async () =>
            {
                for (var i = 1; i < keys; i += 2)
                {
                    Assert.Equal("old", Text(await cacheB.GetAsync($"s{i}")));
                }

                return cacheB.GetStatistics().EntriesInPool == keys;
            },
            Bound);
        Assert.True(admitted, "B holds every key in its pool");
        time.Advance(TimeSpan.FromMilliseconds(1));
        for (var i = 0; i < keys; i++)
        {
            if (i % 4 < 2)
            {
                await cacheA.SetAsync($"s{i}", Bytes("new"), Caches.NoExpiry);
            }
            else
            {
                await cacheA.RemoveAsync($"s{i}");
            }
        }

        Assert.True(await Caches.WaitUntilAsync(() => cacheB.GetStatistics().EntriesInPool == 0, Bound), $"B dropped every older copy ({cacheB.GetStatistics().EntriesInPool} left)");
        Assert.Equal(keys, cacheB.GetStatistics().EntriesInvalidated);
        await cacheA.ReclaimAsync(64);
        for (var i = 0; i < keys; i++)
        {
            Assert.Equal(i % 4 < 2 ? "new" : null, Text(await cacheB.GetAsync($"s{i}")));
        }

        return ((RedisWritebackTier)cacheB.Tier!).FencesHeard;
    }

    [Fact]
    public async Task Sets_and_removes_on_one_instance_reach_the_other_instances_pool_for_many_keys() =>
        output.WriteLine($"fences heard: {await SetsAndRemovesReachTheOtherPoolAsync(redis.ConnectionString)}");

    [Fact]
    public async Task A_channel_prefix_on_the_connection_does_not_cut_the_instances_off_from_each_other() =>
        output.WriteLine($"fences heard: {await SetsAndRemovesReachTheOtherPoolAsync(redis.ConnectionString + ",channelPrefix=app:")}");

    private static (FakeTimeProvider Time, string Instance) Shared() =>
        (new FakeTimeProvider(DateTimeOffset.UtcNow), $"coherence-{Guid.NewGuid():N}:");

    private ServiceProvider Build(string instance, TimeProvider time, CollectingLoggerProvider? logs = null, Action<ZsRedisOptions>? tune = null) =>
        BuildFor(redis.ConnectionString, instance, time, logs, tune);

    private static ServiceProvider BuildFor(string configuration, string instance, TimeProvider time, CollectingLoggerProvider? logs = null, Action<ZsRedisOptions>? tune = null)
    {
        var services = new ServiceCollection();
        services.AddSingleton(time);
        if (logs is not null)
        {
            services.AddLogging(builder => builder.AddProvider(logs));
        }

        services.AddZsCache(o =>
        {
            o.MaxPoolBytes = Pool;
            o.InstanceName = instance;
        }).AddRedisWriteback(r =>
        {
            r.Configuration = configuration;
            (tune ?? Caches.Patient)(r);
        });
        return services.BuildServiceProvider();
    }

    private static ZsDistributedCache Cache(ServiceProvider provider) => provider.GetRequiredService<ZsDistributedCache>();

    private static async Task WarmUpAsync(params ZsDistributedCache[] caches)
    {
        foreach (var cache in caches)
        {
            await Caches.WarmUpAsync(cache);
            var tier = (RedisWritebackTier)cache.Tier!;
            Assert.True(await Caches.WaitUntilAsync(() => tier.IsSubscribed, Bound), "the tier listens to the fence channel");
        }
    }

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    private static string? Text(byte[]? value) => value is null ? null : Encoding.UTF8.GetString(value);
}
