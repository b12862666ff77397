using System.Buffers;
using System.Diagnostics;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using ZsCache.Testing.Logging;
using ZsCache.Testing.Redis;

namespace ZsCache.Redis.Tests.Integration;

/// <summary>
/// Invariant 3 of DESIGN.md hammered against real Redis: concurrent Sets, Removes and reads of a
/// few keys while writeback never stops; no read, during or after, on this instance or another,
/// returns a value older than an operation that completed before it.
/// </summary>
public sealed class StaleResurrectionTests(RedisServerFixture redis, ITestOutputHelper output) : IClassFixture<RedisServerFixture>
{
    private const long Pool = 1024 * 1024;

    [Theory]
    [InlineData(ZsWritebackPolicy.ZspageLru)]
    [InlineData(ZsWritebackPolicy.EntryClock)]
    public async Task Concurrent_sets_and_removes_under_constant_writeback_never_bring_back_an_older_value(ZsWritebackPolicy policy)
    {
        const int keys = 48;
        const int workers = 6;
        const int opsPerWorker = 300;
        var watch = Stopwatch.StartNew();
        var instance = $"hammer-{Guid.NewGuid():N}:";
        var logs = new CollectingLoggerProvider();
        await using var provider = Caches.Build(redis.ConnectionString, instance, Pool, logs: logs, configure: o => o.WritebackPolicy = policy);
        var cache = provider.GetRequiredService<ZsDistributedCache>();
        await Caches.WarmUpAsync(cache);

        // Values up to 40 KB, half incompressible: 48 keys hold about the pool's size, so the
        // shrinker, direct reclaim and stores that bypass a full pool all take part.
        var model = new WriteModel("h", keys, workers * opsPerWorker, maxValueBytes: 40_000);

        using var stop = new CancellationTokenSource();
        var passes = 0;
        var pressure = Task.Run(async () =>
        {
            // Bounded by the workers (stopped when they finish) and by a hard cap.
            for (; !stop.IsCancellationRequested && passes < 100_000; passes++)
            {
                if (passes % 8 == 7)
                {
                    await cache.ShrinkAsync();
                }
                else
                {
                    await cache.ReclaimAsync(2);
                }

                await Task.Yield();
            }
        });

        var tasks = Enumerable.Range(0, workers).Select(w => Task.Run(() => WorkAsync(cache, model, seed: 1000 + w, opsPerWorker, keys))).ToArray();
        await Task.WhenAll(tasks);
        var hammered = watch.Elapsed;
        await stop.CancelAsync();
        await pressure;

        // Quiescence: every Set and Remove confirmed by Redis.
        await Caches.DrainFencesAsync(cache, TimeSpan.FromSeconds(20));
        var stats = cache.GetStatistics();
        output.WriteLine($"hammer: {workers * opsPerWorker} ops in {hammered.TotalMilliseconds:F0} ms, {passes} reclaim passes; reads {model.Reads}, hits {model.Hits}; " +
            $"pool hits {stats.PoolHits}, writeback hits {stats.WritebackHits}, misses {stats.Misses}, entries in pool {stats.EntriesInPool}, written back {stats.EntriesWrittenBack}");
        output.WriteLine("log: " + string.Join(", ", logs.Records.GroupBy(r => (r.EventId.Id, r.Level)).Select(g => $"{g.Key.Id}/{g.Key.Level} x{g.Count()}")));
        foreach (var record in logs.Records.Where(r => r.Level >= Microsoft.Extensions.Logging.LogLevel.Warning).Take(5))
        {
            output.WriteLine($"  {record.EventId.Id}: {record.Message} {record.Exception?.GetType().Name}: {record.Exception?.Message}");
        }

        Assert.True(stats.WritebackHits > 0, "some reads were faulted in from Redis");
        Assert.True(cache.Pool.TotalBytes <= Pool);

        // This instance: the last write exactly, or a miss after a Remove.
        var mine = await model.VerifyQuiescentAsync(k => cache.GetAsync(k), missAllowed: false, "this instance", TimeSpan.FromSeconds(10));

        // A second instance sees only Redis: a last Set still resident in the first pool may miss there.
        await using (var secondProvider = Caches.Build(redis.ConnectionString, instance, Pool, configure: o => o.WritebackPolicy = policy))
        {
            var second = secondProvider.GetRequiredService<IDistributedCache>();
            var seen = await model.VerifyQuiescentAsync(k => second.GetAsync(k), missAllowed: true, "second instance", TimeSpan.Zero);
            output.WriteLine($"this instance: {mine.Exact} exact; second instance: {seen.Exact} exact, {seen.Missed} misses (resident on the first)");
        }

        // Everything written back: now a fresh instance must read every last Set exactly.
        for (var round = 0; round < 20 && cache.GetStatistics().EntriesInPool > 0; round++)
        {
            await cache.ReclaimAsync(1024);
        }

        Assert.Equal(0, cache.GetStatistics().EntriesInPool);
        await using (var thirdProvider = Caches.Build(redis.ConnectionString, instance, Pool, configure: o => o.WritebackPolicy = policy))
        {
            var third = thirdProvider.GetRequiredService<IDistributedCache>();
            var all = await model.VerifyQuiescentAsync(k => third.GetAsync(k), missAllowed: false, "fresh instance after a full writeback", TimeSpan.FromSeconds(5));
            output.WriteLine($"fresh instance after full writeback: {all.Exact} exact of {keys}; total {watch.Elapsed.TotalMilliseconds:F0} ms");
        }

        model.AssertNoViolations();
    }

    private static async Task WorkAsync(ZsDistributedCache cache, WriteModel model, int seed, int ops, int keys)
    {
        var random = new Random(seed);
        for (var i = 0; i < ops; i++)
        {
            var k = random.Next(keys);
            var roll = random.Next(100);
            var variant = random.Next(4);
            if (roll < 35)
            {
                await model.MutateAsync(k, set: true, (key, value) => variant switch
                {
                    0 => Sync(() => cache.Set(key, value!, Caches.NoExpiry)),
                    1 => cache.SetAsync(key, value!, Caches.NoExpiry),
                    2 => Sync(() => cache.Set(key, new ReadOnlySequence<byte>(value!), Caches.NoExpiry)),
                    _ => cache.SetAsync(key, new ReadOnlySequence<byte>(value!), Caches.NoExpiry).AsTask(),
                });
            }
            else if (roll < 50)
            {
                await model.MutateAsync(k, set: false, (key, _) => variant % 2 == 0 ? Sync(() => cache.Remove(key)) : cache.RemoveAsync(key));
            }
            else
            {
                var key = model.Key(k);
                var before = model.Snapshot(k);
                var (got, how) = variant switch
                {
                    0 => (cache.Get(key), "Get"),
                    1 => (await cache.GetAsync(key), "GetAsync"),
                    2 => (TryGet(cache, key), "TryGet"),
                    _ => (await TryGetAsync(cache, key), "TryGetAsync"),
                };
                model.CheckConcurrent(k, before, got, how);
            }

            if (cache.Pool.TotalBytes > Pool)
            {
                model.Violation($"the pool held {cache.Pool.TotalBytes} bytes, over its {Pool}");
            }
        }
    }

    private static Task Sync(Action action)
    {
        action();
        return Task.CompletedTask;
    }

    internal static byte[]? TryGet(IBufferDistributedCache cache, string key)
    {
        var writer = new ArrayBufferWriter<byte>();
        return cache.TryGet(key, writer) ? writer.WrittenSpan.ToArray() : Empty(writer);
    }

    internal static async Task<byte[]?> TryGetAsync(IBufferDistributedCache cache, string key)
    {
        var writer = new ArrayBufferWriter<byte>();
        return await cache.TryGetAsync(key, writer) ? writer.WrittenSpan.ToArray() : Empty(writer);
    }

    /// <summary>A miss must not have written anything into the caller's buffer.</summary>
    private static byte[]? Empty(ArrayBufferWriter<byte> writer)
    {
        Assert.Equal(0, writer.WrittenCount);
        return null;
    }
}
