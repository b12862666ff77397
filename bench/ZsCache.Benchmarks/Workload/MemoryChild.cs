using System.Buffers;
using System.Diagnostics;
using System.Runtime;
using System.Text.Json;
using Microsoft.Extensions.Caching.Distributed;
using ZsCache.Benchmarks.Caches;
using ZsCache.Benchmarks.Corpus;

namespace ZsCache.Benchmarks.Workload;

/// <summary>
/// One cache of the memory workload, alone in its own process: fill N corpus entries, then measure
/// what the process holds and how long a full blocking gen2 GC takes with the entries live.
/// Prints progress lines, then one line <c>RESULT {json}</c> for the parent.
/// </summary>
public static class MemoryChild
{
    public const string ResultPrefix = "RESULT ";

    public static int Run(HarnessArgs options)
    {
        string cacheName = options.GetString("cache", "memory");
        long entries = options.GetInt64("entries", 1_000_000);
        long poolBytes = options.GetBytes("pool-bytes", 4L << 30);
        int gcRepeats = (int)options.GetInt64("gc-repeats", 5);
        var corpus = new JsonCorpus((ulong)options.GetInt64("seed", (long)JsonCorpus.DefaultSeed));

        using var handle = CacheHandle.TryCreateVerified(cacheName, poolBytes, corpus, out string? reason);
        if (handle is null)
        {
            Emit(new MemoryResult { Cache = cacheName, Available = false, Reason = reason, Entries = entries });
            return 0;
        }

        var cache = handle.Cache;
        var options0 = new DistributedCacheEntryOptions();
        var buffer = new ArrayBufferWriter<byte>(JsonCorpus.MaxValueBytes + 1024);

        // Warm the code paths (JIT, corpus buffers) before the "before" snapshot, then settle the heap.
        for (long i = 0; i < 64; i++)
        {
            cache.Get(corpus.Key(entries + i));
        }

        FullCollect();
        long gcBefore = GC.GetTotalMemory(true);
        var infoBefore = GC.GetGCMemoryInfo(GCKind.Any);
        var procBefore = ProcStatus.Read();
        string? server = handle.RedisPid?.ToString(System.Globalization.CultureInfo.InvariantCulture);
        long serverBefore = server is null ? 0 : ProcStatus.Read(server).RssAnon;

        var fill = Stopwatch.StartNew();
        long raw = 0, keyChars = 0;
        // A cache over a network (redis) is filled 256 requests in flight at a time, or a million
        // round trips would take many minutes; in-process caches get plain synchronous Sets.
        var inFlight = new List<Task>(256);
        for (long i = 0; i < entries; i++)
        {
            string key = corpus.Key(i);
            buffer.ResetWrittenCount();
            corpus.WriteValue(i, buffer);
            byte[] value = buffer.WrittenSpan.ToArray();
            if (server is null)
            {
                cache.Set(key, value, options0);
            }
            else
            {
                inFlight.Add(cache.SetAsync(key, value, options0));
                if (inFlight.Count == 256 || i == entries - 1)
                {
                    Task.WaitAll(inFlight);
                    inFlight.Clear();
                }
            }

            raw += value.Length;
            keyChars += key.Length;
            if ((i + 1) % 200_000 == 0)
            {
                Console.WriteLine($"  [{cacheName}] filled {i + 1:N0} entries, {fill.Elapsed.TotalSeconds:F1} s");
            }
        }

        fill.Stop();

        // Every entry must still be there, or bytes/entry would flatter a cache that dropped some.
        // Each 101st is compared byte for byte with a regenerated value.
        long resident = 0;
        for (long i = 0; i < entries; i++)
        {
            byte[]? back = cache.Get(corpus.Key(i));
            if (back is null)
            {
                continue;
            }

            if (i % 101 == 0 && !back.AsSpan().SequenceEqual(corpus.Value(i)))
            {
                Console.WriteLine($"  [{cacheName}] WRONG BYTES for entry {i}");
                continue;
            }

            resident++;
        }

        FullCollect();
        long gcAfter = GC.GetTotalMemory(true);
        var infoAfter = GC.GetGCMemoryInfo(GCKind.Any);
        var procAfter = ProcStatus.Read();
        long serverAfter = server is null ? 0 : ProcStatus.Read(server).RssAnon;
        var stats = handle.ReadZsStatistics();
        (long pool, string? poolSource) = FindPoolBytes(stats);

        // Full blocking compacting gen2 GC with every entry live: one untimed, then the repetitions.
        var pausesWall = new List<double>();
        var pausesGc = new List<double>();
        var pausesCpu = new List<double>();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        for (int r = 0; r < gcRepeats; r++)
        {
            TimeSpan pauseBefore = GC.GetTotalPauseDuration();
            long cpu0 = ThreadCpuClock.NowNanoseconds();
            long t0 = Stopwatch.GetTimestamp();
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            pausesWall.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            pausesCpu.Add((ThreadCpuClock.NowNanoseconds() - cpu0) / 1e6);
            pausesGc.Add((GC.GetTotalPauseDuration() - pauseBefore).TotalMilliseconds);
        }

        GC.KeepAlive(cache);
        Emit(new MemoryResult
        {
            Cache = cacheName,
            Available = true,
            Entries = entries,
            EntriesResident = resident,
            RawValueBytes = raw,
            KeyChars = keyChars,
            FillSeconds = fill.Elapsed.TotalSeconds,
            GcTotalMemoryDelta = gcAfter - gcBefore,
            GcHeapSizeDelta = infoAfter.HeapSizeBytes - infoBefore.HeapSizeBytes,
            PohSizeDelta = PohSize(infoAfter) - PohSize(infoBefore),
            GcCommittedDelta = infoAfter.TotalCommittedBytes - infoBefore.TotalCommittedBytes,
            PoolBytes = pool,
            PoolBytesSource = poolSource,
            ZsStatistics = stats,
            RssAnonDelta = procAfter.RssAnon - procBefore.RssAnon,
            ServerRssAnonDelta = serverAfter - serverBefore,
            VmRssDelta = procAfter.VmRss - procBefore.VmRss,
            PrivateDelta = procAfter.Private - procBefore.Private,
            VmHwm = procAfter.VmHwm,
            RssAnonAfter = procAfter.RssAnon,
            Gen2PauseMs = pausesWall,
            Gen2GcPauseMs = pausesGc,
            Gen2CpuMs = pausesCpu,
            LoadAverage = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : null,
            GcMode = $"{(GCSettings.IsServerGC ? "server" : "workstation")}, latency {GCSettings.LatencyMode}",
        });
        return 0;
    }

    /// <summary>Collects everything and gives freed memory back to the OS, so RSS reflects what is live.</summary>
    private static void FullCollect()
    {
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
    }

    private static long PohSize(GCMemoryInfo info)
    {
        // GenerationInfo: 0, 1, 2, LOH (3), POH (4).
        var generations = info.GenerationInfo;
        return generations.Length > 4 ? generations[4].SizeAfterBytes : 0;
    }

    /// <summary>
    /// The statistics property that holds the pool's bytes: the contract's <c>zscache.pool.size</c>
    /// ("bytes of zspage memory held"). Matched by name, since the statistics type is not written yet.
    /// </summary>
    private static (long Bytes, string? Source) FindPoolBytes(IReadOnlyDictionary<string, double>? stats)
    {
        if (stats is null)
        {
            return (-1, null);
        }

        string[] preferred = ["PoolBytes", "PoolSizeBytes", "PoolSize", "ZspageBytes", "HeldBytes", "PoolHeldBytes"];
        foreach (string name in preferred)
        {
            if (stats.TryGetValue(name, out double v))
            {
                return ((long)v, name);
            }
        }

        foreach (var (name, v) in stats)
        {
            if (name.Contains("Pool", StringComparison.OrdinalIgnoreCase) && name.Contains("Bytes", StringComparison.OrdinalIgnoreCase)
                && !name.Contains("Max", StringComparison.OrdinalIgnoreCase) && !name.Contains("Limit", StringComparison.OrdinalIgnoreCase))
            {
                return ((long)v, name);
            }
        }

        return (-1, null);
    }

    private static void Emit(MemoryResult result) =>
        Console.WriteLine(ResultPrefix + JsonSerializer.Serialize(result));
}
