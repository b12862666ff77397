using System.Diagnostics;
using System.Runtime;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;
using Xunit.Abstractions;
using ZsCache.Reliability.Tests.Support;
using ZsCache.Soak;
using ZsCache.Testing.Redis;

namespace ZsCache.Reliability.Tests.Memory;

/// <summary>
/// A long (bounded) mixed workload keeps the process's memory within a stated bound of the
/// pool limit plus the index; removing everything and compacting gives it all back; disposing
/// the cache lets the GC take it.
/// </summary>
/// <remarks>
/// <para>The stated bound, at checkpoints during the run, after a full blocking GC: the live
/// managed memory the cache is responsible for (live heap minus the heap before the cache
/// existed, minus the load driver's own model and key names, measured once the cache is gone)
/// is at most <c>MaxPoolBytes</c> + index bytes + pool metadata bytes + 32 MiB. The 32 MiB
/// covers <c>ArrayPool&lt;byte&gt;.Shared</c> buffers the cache rents (cached per thread, up to
/// about 20 MiB with 80 threads and 128 KiB values), the fence and shadow tables and
/// StackExchange.Redis's buffers. The zspages are pinned arrays, so they are in the heap.</para>
/// <para>Two more figures, bounded loosely: the pinned object heap's size including its free
/// space (freed zspage buffers are not recycled and the pinned heap is never compacted, so it
/// holds more than the live zspages), and the process working set.</para>
/// <para>This class runs alone: the assembly does not parallelise test classes.</para>
/// </remarks>
public sealed class MemoryTests(RedisServerFixture redis, ITestOutputHelper output) : IClassFixture<RedisServerFixture>
{
    private const long PoolBytes = 32L * 1024 * 1024;
    private const long Slack = 32L * 1024 * 1024;
    private const int Keys = 30_000;

    private readonly record struct Checkpoint(long Live, long PinnedHeap, long PinnedFree, long WorkingSet, long Bound);

    [Fact]
    public async Task A_long_mixed_workload_stays_within_the_pool_limit_plus_the_index_and_everything_is_given_back()
    {
        var harness = HarnessBytes();
        var baseline = LiveHeap();
        var baselineRss = Environment.WorkingSet;
        var baselinePinned = PinnedHeap().Size;
        var (weak, checkpoints) = await RunAsync(baseline, baselineRss);

        // Disposed: the GC takes the cache and its pool (no timer, meter or static keeps it).
        var collected = await Bounded.WaitAsync(() =>
        {
            LiveHeap();
            return !weak.IsAlive;
        }, TimeSpan.FromSeconds(10));
        Assert.True(collected, "the disposed cache was collected");
        var after = LiveHeap();
        var pinnedAfter = PinnedHeap().Size - baselinePinned;
        output.WriteLine($"after dispose      live heap +{Mb(after - baseline)} above the start (ArrayPool<byte>.Shared buffers the runtime keeps a while); pinned heap +{Mb(pinnedAfter)}; the load driver's model holds about {Mb(harness)}");
        Assert.True(pinnedAfter < 1024 * 1024, $"pinned heap +{Mb(pinnedAfter)} after dispose: zspages outlive the cache");
        Assert.True(after - baseline < Slack, $"{Mb(after - baseline)} still live after dispose");

        foreach (var c in checkpoints)
        {
            var cacheLive = c.Live - harness;
            output.WriteLine($"checkpoint         cache live +{Mb(cacheLive)} of bound {Mb(c.Bound)}; pinned heap {Mb(c.PinnedHeap - baselinePinned)} ({Mb(c.PinnedFree)} of it free); working set +{Mb(c.WorkingSet)}");
            Assert.True(cacheLive <= c.Bound, $"cache live +{Mb(cacheLive)} above the bound {Mb(c.Bound)}");
            Assert.True(c.PinnedHeap - baselinePinned <= 2 * PoolBytes, $"pinned heap {Mb(c.PinnedHeap)} above twice the pool limit");
            Assert.True(c.WorkingSet <= (3 * PoolBytes) + (256L * 1024 * 1024), $"working set +{Mb(c.WorkingSet)}");
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private async Task<(WeakReference Cache, List<Checkpoint> Checkpoints)> RunAsync(long baseline, long baselineRss)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var instance = $"memory-{Guid.NewGuid():N}:";
        var sut = CacheUnderTest.Create(redis.ConnectionString, o =>
        {
            o.MaxPoolBytes = PoolBytes;
            o.InstanceName = instance;
        }, time);
        var weak = new WeakReference(sut.Cache);
        var checkpoints = new List<Checkpoint>();
        try
        {
            var cache = sut.Cache;
            var driver = new LoadDriver(cache, time, new LoadOptions
            {
                Clients = 32,
                Keys = Keys,
                Duration = Scale.Seconds(15),
                Seed = 77,
                AdvanceClock = time.Advance,
                SyncShare = 0.05,
            });
            await driver.PrefillAsync();

            // Checkpoints during the run: full GC, then the heap's figures.
            var load = driver.RunAsync(CancellationToken.None);
            while (!load.IsCompleted)
            {
                await Task.WhenAny(load, Task.Delay(TimeSpan.FromSeconds(3))); // the sampling schedule
                var stats = cache.GetStatistics();
                var live = LiveHeap() - baseline;
                var (pinned, pinnedFree) = PinnedHeap();
                checkpoints.Add(new Checkpoint(live, pinned, pinnedFree, Environment.WorkingSet - baselineRss, PoolBytes + stats.IndexBytes + stats.PoolMetadataBytes + Slack));
                output.WriteLine($"sample             live heap +{Mb(live)}: pool {Mb(stats.PoolBytes)}, index {Mb(stats.IndexBytes)}, metadata {Mb(stats.PoolMetadataBytes)}; {Generations()}; {stats.EntriesInPool:N0} entries in pool, {stats.EntriesWrittenBack:N0} written back");
            }

            var report = await load;
            output.WriteLine(report.Describe());
            output.WriteLine(sut.Figures());
            Assert.True(report.Exceptions + report.Corrupt + report.OtherKey + report.PoolOverLimit == 0, report.Describe());
            Assert.True(checkpoints.Count >= 2);

            // Remove every key, compact: the pool gives everything back.
            for (var key = 0; key < driver.Keys.Count; key++)
            {
                await cache.RemoveAsync(driver.Keys.Name(key));
            }

            await cache.ShrinkAsync();
            cache.Pool.Compact();
            var drained = await Bounded.WaitAsync(() => cache.GetStatistics().PendingFences == 0, TimeSpan.FromSeconds(30));
            var empty = cache.GetStatistics();
            var liveEmpty = LiveHeap() - baseline;
            output.WriteLine($"after remove-all   pool {empty.PoolBytes:N0} bytes, {empty.PoolPages} pages, {empty.EntriesInPool} entries, stored {empty.StoredCompressedBytes:N0} bytes, pending fences {empty.PendingFences}; live heap +{Mb(liveEmpty)} (index {Mb(empty.IndexBytes)}, metadata {Mb(empty.PoolMetadataBytes)}); {Generations()}");
            Assert.Equal(0, empty.EntriesInPool);
            Assert.Equal(0, empty.StoredCompressedBytes);
            Assert.Equal(0, empty.StoredOriginalBytes);
            Assert.Equal(0, empty.PoolBytes);
            Assert.True(drained, "every fence reached Redis");
            Assert.True(liveEmpty <= empty.IndexBytes + empty.PoolMetadataBytes + Slack + (16L * 1024 * 1024), $"live heap +{Mb(liveEmpty)} with nothing stored");

            // Nothing is left in Redis either but tombstones that expire.
            await using var direct = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
            var server = direct.GetServers()[0];
            var db = direct.GetDatabase();
            var left = 0;
            await foreach (var key in server.KeysAsync(pattern: instance + "*", pageSize: 1000))
            {
                left++;
                var head = (byte[]?)await db.StringGetRangeAsync(key, 0, 3);
                var ttl = await db.KeyTimeToLiveAsync(key);
                Assert.True(head is { Length: 4 } && head[0] == 'Z' && head[1] == 'S' && (head[3] & 1) == 1, $"{key} is a fence");
                Assert.True(ttl is { } t && t <= TimeSpan.FromSeconds(60), $"{key} expires within the fence lifetime");
            }

            output.WriteLine($"redis              {left:N0} keys left under the prefix, all fences expiring within 60 s");
        }
        finally
        {
            await sut.DisposeAsync();
        }

        return (weak, checkpoints);
    }

    /// <summary>
    /// The live bytes of the load driver's own bookkeeping (history model and key names of 30,000
    /// keys, one write each, as after the prefill; histories stay that short as they are pruned),
    /// measured on a throwaway copy before the cache exists.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long HarnessBytes()
    {
        var before = LiveHeap();
        var model = new HistoryModel(Keys, TimeProvider.System);
        var keys = new ZipfKeys(Keys, 0.99, "k");
        for (var k = 0; k < Keys; k++)
        {
            model.EndWrite(k, model.BeginWrite(k, k, isRemove: false));
        }

        var size = LiveHeap() - before;
        GC.KeepAlive(model);
        GC.KeepAlive(keys);
        return size;
    }

    private static (long Size, long Free) PinnedHeap()
    {
        var poh = GC.GetGCMemoryInfo(GCKind.FullBlocking).GenerationInfo[4];
        return (poh.SizeAfterBytes, poh.FragmentationAfterBytes);
    }

    private static long LiveHeap()
    {
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: false);
    }

    /// <summary>Heap sizes by generation after the last GC: where the live bytes are (POH holds the zspages).</summary>
    private static string Generations()
    {
        var info = GC.GetGCMemoryInfo(GCKind.FullBlocking);
        string[] names = ["gen0", "gen1", "gen2", "LOH", "POH"];
        return "heap               " + string.Join(", ", info.GenerationInfo.ToArray().Select((g, i) => $"{(i < names.Length ? names[i] : i.ToString(System.Globalization.CultureInfo.InvariantCulture))} {Mb(g.SizeAfterBytes)} ({Mb(g.FragmentationAfterBytes)} free)"));
    }

    private static string Mb(long bytes) => $"{bytes / 1024.0 / 1024.0:0.0} MiB";
}
