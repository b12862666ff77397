using System.Buffers;
using System.Diagnostics;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Polly.CircuitBreaker;
using Xunit.Abstractions;
using ZsCache.Redis.Internal;
using ZsCache.Testing.Logging;
using ZsCache.Testing.Redis;

namespace ZsCache.Redis.Tests.Integration;

/// <summary>
/// Invariant 4 of DESIGN.md with the whole cache against a real redis-server that is killed,
/// restarted and paused under it. Own server per class; the tests run one after the other.
/// </summary>
public sealed class OutageTests(RedisServerFixture redis, ITestOutputHelper output) : IClassFixture<RedisServerFixture>
{
    private const long Pool = 1024 * 1024;

    [SkippableFact]
    public async Task Killed_redis_never_surfaces_keeps_the_pool_bounded_serves_no_stale_value_and_writeback_resumes_after_restart()
    {
        redis.SkipUnlessProcess();
        const int keys = 48;
        var watch = Stopwatch.StartNew();
        var logs = new CollectingLoggerProvider();
        var instance = $"outage-{Guid.NewGuid():N}:";
        await using var provider = Caches.Build(redis.ConnectionString, instance, Pool, Caches.Quick, logs);
        var cache = provider.GetRequiredService<ZsDistributedCache>();
        var tier = provider.GetRequiredService<RedisWritebackTier>();
        var health = HealthOf(tier);
        await Caches.WarmUpAsync(cache);
        var model = new WriteModel("o", keys, 2000, maxValueBytes: 60_000);

        // Before the outage: every key set, more than a pool's worth, part of it written back.
        for (var k = 0; k < keys; k++)
        {
            await model.MutateAsync(k, set: true, (key, value) => cache.SetAsync(key, value!, Caches.NoExpiry));
        }

        await cache.ReclaimAsync(8);
        await Caches.DrainFencesAsync(cache, TimeSpan.FromSeconds(10));
        Assert.True(cache.GetStatistics().EntriesWrittenBack > 0, "part of it was written back before the outage");

        await redis.KillAsync();
        var slowest = TimeSpan.Zero;
        var sawOpen = false;
        var sawDegraded = false;
        try
        {
            var random = new Random(7);
            for (var i = 0; i < 300; i++)
            {
                var k = random.Next(keys);
                var key = model.Key(k);
                var roll = random.Next(100);
                var sync = random.Next(2) == 0;
                var op = Stopwatch.StartNew();
                if (roll < 30)
                {
                    await model.MutateAsync(k, set: true, (_, value) => sync ? Run(() => cache.Set(key, value!, Caches.NoExpiry)) : cache.SetAsync(key, value!, Caches.NoExpiry));
                }
                else if (roll < 45)
                {
                    await model.MutateAsync(k, set: false, (_, _) => sync ? Run(() => cache.Remove(key)) : cache.RemoveAsync(key));
                }
                else if (roll < 80)
                {
                    var before = model.Snapshot(k);
                    var got = (roll % 4) switch
                    {
                        0 => cache.Get(key),
                        1 => await cache.GetAsync(key),
                        2 => StaleResurrectionTests.TryGet(cache, key),
                        _ => await StaleResurrectionTests.TryGetAsync(cache, key),
                    };
                    model.CheckConcurrent(k, before, got, "during the outage");
                }
                else if (roll < 92)
                {
                    if (sync)
                    {
                        cache.Refresh(key);
                    }
                    else
                    {
                        await cache.RefreshAsync(key);
                    }
                }
                else
                {
                    // Writeback pressure while the tier is down: the shrinker drops instead.
                    if (sync)
                    {
                        await cache.ReclaimAsync(2);
                    }
                    else
                    {
                        await cache.ShrinkAsync();
                    }
                }

                slowest = op.Elapsed > slowest ? op.Elapsed : slowest;
                Assert.True(cache.Pool.TotalBytes <= Pool, $"the pool holds {cache.Pool.TotalBytes} bytes, over {Pool}");
                if (tier.CircuitState == CircuitState.Open && !sawOpen)
                {
                    sawOpen = true;
                    Assert.False(tier.IsAvailable);
                    sawDegraded = (await health()).Status == HealthStatus.Degraded;
                }
            }

            output.WriteLine($"outage: 300 ops, slowest {slowest.TotalMilliseconds:F0} ms; pool {cache.Pool.TotalBytes} bytes; pending fences {cache.GetStatistics().PendingFences}; {watch.ElapsedMilliseconds} ms so far");
            Assert.True(sawOpen, "the breaker opened during the outage");
            Assert.True(sawDegraded, "the health check said Degraded while the breaker was open");
            Assert.True(slowest < TimeSpan.FromSeconds(2.5), $"an operation took {slowest} while Redis was down (total timeout 1 s)");
            Assert.True(cache.GetStatistics().PendingFences > 0, "fences wait for the tier");
            Assert.Contains(logs.Records, r => r.EventId.Id == 101); // the shrinker dropped instead of writing back
        }
        finally
        {
            await redis.StartAsync();
        }

        // The tier comes back by itself (reads poke the breaker's half-open probe) and the fences drain.
        var back = await Caches.WaitUntilAsync(
            async () => await cache.GetAsync("poke") is null && tier.IsAvailable && (await health()).Status == HealthStatus.Healthy,
            TimeSpan.FromSeconds(20));
        Assert.True(back, $"the tier is available again after the restart (circuit {tier.CircuitState})");
        await Caches.DrainFencesAsync(cache, TimeSpan.FromSeconds(20));

        // No stale value, here or on a fresh instance (the restarted server is empty: misses are fine).
        await model.VerifyQuiescentAsync(k => cache.GetAsync(k), missAllowed: true, "after the restart", TimeSpan.Zero);
        await using (var fresh = Caches.Build(redis.ConnectionString, instance, Pool))
        {
            var other = fresh.GetRequiredService<IDistributedCache>();
            await model.VerifyQuiescentAsync(k => other.GetAsync(k), missAllowed: true, "fresh instance after the restart", TimeSpan.Zero);
        }

        // Writeback resumes: new values reclaimed now land in Redis and fault back in.
        for (var k = 0; k < keys; k++)
        {
            await model.MutateAsync(k, set: true, (key, value) => cache.SetAsync(key, value!, Caches.NoExpiry));
        }

        for (var round = 0; round < 20 && cache.GetStatistics().EntriesInPool > 0; round++)
        {
            await cache.ReclaimAsync(1024);
        }

        Assert.Equal(0, cache.GetStatistics().EntriesInPool);
        for (var k = 0; k < keys; k++)
        {
            Assert.Equal("1", await redis.ExecuteAsync("EXISTS", instance + model.Key(k)));
        }

        await Caches.DrainFencesAsync(cache, TimeSpan.FromSeconds(10));
        var hitsBefore = cache.GetStatistics().WritebackHits;
        var (exact, _) = await model.VerifyQuiescentAsync(k => cache.GetAsync(k), missAllowed: false, "after writeback resumed", TimeSpan.FromSeconds(5));
        Assert.Equal(keys, exact);
        Assert.Equal(hitsBefore + keys, cache.GetStatistics().WritebackHits);
        model.AssertNoViolations();
        output.WriteLine($"total {watch.ElapsedMilliseconds} ms");
    }

    [SkippableFact]
    public async Task Client_pause_during_writeback_stalls_no_request_trips_the_breaker_and_service_returns()
    {
        redis.SkipUnlessProcess();
        var watch = Stopwatch.StartNew();
        var logs = new CollectingLoggerProvider();
        var instance = $"pause-{Guid.NewGuid():N}:";
        await using var provider = Caches.Build(redis.ConnectionString, instance, Pool, o =>
        {
            o.AttemptTimeout = TimeSpan.FromMilliseconds(200);
            o.TotalTimeout = TimeSpan.FromMilliseconds(600);
            o.RetryCount = 1;
            o.RetryDelay = TimeSpan.FromMilliseconds(10);
            o.BreakerMinimumThroughput = 4;
            o.BreakerSamplingDuration = TimeSpan.FromSeconds(5);
            o.BreakDuration = TimeSpan.FromSeconds(1);
        }, logs);
        var cache = provider.GetRequiredService<ZsDistributedCache>();
        var tier = provider.GetRequiredService<RedisWritebackTier>();
        var health = HealthOf(tier);
        await Caches.WarmUpAsync(cache);

        // Cold values, written back to Redis.
        var cold = Enumerable.Range(0, 8).Select(i => ($"cold{i}", Caches.Value(100 + i))).ToArray();
        foreach (var (key, value) in cold)
        {
            await cache.SetAsync(key, value, Caches.NoExpiry);
        }

        await cache.ReclaimAsync(1024);
        Assert.Equal(0, cache.GetStatistics().EntriesInPool);

        // The racer: stored first (the LRU tail zspage, in a size class of its own), to be
        // written back during the pause and removed while that write is stuck.
        var racer = new byte[3000];
        new Random(5).NextBytes(racer);
        await cache.SetAsync("racer", racer, Caches.NoExpiry);

        // Hot values: resident in the pool, far below its watermarks.
        var hot = Enumerable.Range(0, 16).Select(i => ($"hot{i}", RandomBytes(i, 500))).ToArray();
        foreach (var (key, value) in hot)
        {
            await cache.SetAsync(key, value, Caches.NoExpiry);
        }

        await Caches.DrainFencesAsync(cache, TimeSpan.FromSeconds(10));
        var poolEntries = cache.GetStatistics().EntriesInPool;

        await redis.PauseAsync(TimeSpan.FromSeconds(5));
        var paused = Stopwatch.StartNew();
        // Called inline, not queued: it decides to write back (the breaker still closed) and takes
        // the racer's zspage before returning at its first wait on Redis. Queued on a starved
        // thread pool it could start after the breaker opened, and drop a zspage of hot values.
        var writeback = cache.ReclaimAsync(1);
        var slowest = TimeSpan.Zero;
        async Task Timed(Func<Task> operation)
        {
            var op = Stopwatch.StartNew();
            await operation();
            slowest = op.Elapsed > slowest ? op.Elapsed : slowest;
        }

        // Requests served by the pool never wait on Redis.
        for (var round = 0; round < 3; round++)
        {
            foreach (var (key, value) in hot)
            {
                await Timed(() => Run(() => Assert.Equal(value, cache.Get(key))));
                await Timed(async () => Assert.Equal(value, await cache.GetAsync(key)));
                await Timed(() => Run(() => Assert.Equal(value, StaleResurrectionTests.TryGet(cache, key))));
            }

            await Timed(() => Run(() => cache.Set($"new{round}", RandomBytes(50 + round, 400), Caches.NoExpiry)));
            await Timed(() => cache.SetAsync($"newer{round}", RandomBytes(60 + round, 400), Caches.NoExpiry));
            await Timed(() => cache.SetAsync($"seq{round}", new ReadOnlySequence<byte>(RandomBytes(70 + round, 400)), Caches.NoExpiry).AsTask());
            await Timed(() => Run(() => cache.Refresh(hot[round].Item1)));
        }

        await Timed(() => Run(() => cache.Remove("racer")));
        var servedWithin = slowest;

        // Reads that must go to Redis give up within the total timeout; their failures (with the
        // stuck writeback's) trip the breaker.
        var slowestFaultIn = TimeSpan.Zero;
        var opened = await Caches.WaitUntilAsync(
            async () =>
            {
                var op = Stopwatch.StartNew();
                Assert.Null(await cache.GetAsync(cold[0].Item1));
                slowestFaultIn = op.Elapsed > slowestFaultIn ? op.Elapsed : slowestFaultIn;
                return tier.CircuitState == CircuitState.Open;
            },
            TimeSpan.FromSeconds(3));
        var openedAfter = paused.Elapsed;
        Assert.True(opened, $"the breaker opened during the pause (circuit {tier.CircuitState} after {openedAfter})");
        Assert.False(tier.IsAvailable);
        Assert.Equal(HealthStatus.Degraded, (await health()).Status);
        await writeback;
        output.WriteLine($"pause: pool-served ops slowest {servedWithin.TotalMilliseconds:F0} ms; fault-ins slowest {slowestFaultIn.TotalMilliseconds:F0} ms; breaker open after {openedAfter.TotalMilliseconds:F0} ms of the pause");
        Assert.True(servedWithin < TimeSpan.FromSeconds(1), $"a pool-served request took {servedWithin} during the pause");
        Assert.True(slowestFaultIn < TimeSpan.FromSeconds(1.5), $"a fault-in took {slowestFaultIn} (total timeout 600 ms)");
        Assert.True(paused.Elapsed < TimeSpan.FromSeconds(5), "all of the above happened while Redis was paused");
        Assert.Equal(poolEntries - 1 + 9, cache.GetStatistics().EntriesInPool); // nothing lost but the removed racer; nine new

        // Service returns: the breaker closes, the health check is Healthy again, cold values fault in.
        var back = await Caches.WaitUntilAsync(
            async () => await cache.GetAsync(cold[1].Item1) is not null && tier.IsAvailable && (await health()).Status == HealthStatus.Healthy,
            TimeSpan.FromSeconds(15));
        Assert.True(back, $"service returns after the pause (circuit {tier.CircuitState})");
        await Caches.DrainFencesAsync(cache, TimeSpan.FromSeconds(15));
        foreach (var (key, value) in cold)
        {
            await ReadsBackAsync(cache, key, value);
        }

        // The stuck write of the racer ran when the pause ended; the Remove's fence superseded it.
        Assert.Null(await cache.GetAsync("racer"));
        await using (var fresh = Caches.Build(redis.ConnectionString, instance, Pool))
        {
            Assert.Null(await fresh.GetRequiredService<IDistributedCache>().GetAsync("racer"));
        }

        // And writeback works again.
        await cache.ReclaimAsync(1024);
        foreach (var (key, value) in hot)
        {
            Assert.Equal("1", await redis.ExecuteAsync("EXISTS", instance + key));
            await ReadsBackAsync(cache, key, value);
        }

        Assert.Contains(logs.Records, r => r.EventId.Id == 10); // circuit opened
        Assert.Contains(logs.Records, r => r.EventId.Id == 11); // and closed again
        output.WriteLine($"total {watch.ElapsedMilliseconds} ms");
    }

    private static Func<Task<HealthCheckResult>> HealthOf(RedisWritebackTier tier)
    {
        var check = new ZsRedisHealthCheck(tier);
        var context = new HealthCheckContext { Registration = new HealthCheckRegistration("redis", check, HealthStatus.Unhealthy, null) };
        return () => check.CheckHealthAsync(context);
    }

    private static byte[] RandomBytes(int seed, int length)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static Task Run(Action action)
    {
        action();
        return Task.CompletedTask;
    }

    /// <summary>
    /// Reads <paramref name="key"/> until it faults in as <paramref name="value"/> (bounded). With
    /// this test's 200 ms attempts, a read on a loaded two-core machine can time out and read as
    /// a miss, which is the cache's promised degradation; a wrong value never passes.
    /// </summary>
    private static async Task ReadsBackAsync(ZsDistributedCache cache, string key, byte[] value)
    {
        var read = await Caches.WaitUntilAsync(
            async () =>
            {
                var got = await cache.GetAsync(key);
                Assert.True(got is null || got.AsSpan().SequenceEqual(value), $"{key} read as a wrong value");
                return got is not null;
            },
            TimeSpan.FromSeconds(10));
        Assert.True(read, $"{key} reads back");
    }
}
