using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using ZsCache.Benchmarks.Caches;
using ZsCache.Benchmarks.Corpus;
using ZsCache.Redis;

namespace ZsCache.Benchmarks.Policy;

/// <summary>
/// One cache replaying one trace, cache-aside: each request is a <c>GetAsync</c>, and on a miss
/// the app "loads" the value (generates it from the corpus, not timed) and <c>SetAsync</c>s it.
/// </summary>
public static class PolicyRun
{
    /// <summary>The caches a study compares, in report order.</summary>
    public static readonly string[] CacheNames = ["zspage-lru", "entry-clock", "memory"];

    /// <summary>Every hit is checked for length; every this-many-th hit also byte for byte.</summary>
    private const int VerifyEvery = 64;

    /// <summary>The pool's size and contents are sampled every this many measured requests.</summary>
    private const int SampleEvery = 1000;

    public static string Describe(string cache) => cache switch
    {
        "zspage-lru" => "ZsCache, WritebackPolicy = ZspageLru, Redis writeback",
        "entry-clock" => "ZsCache, WritebackPolicy = EntryClock, Redis writeback",
        "memory" => "MemoryDistributedCache, SizeLimit = MaxPoolBytes (Size = value length), no second tier",
        _ => cache,
    };

    public static async Task<PolicyResult> RunAsync(string cacheName, PolicyTrace trace, StudyCorpus corpus, long poolBytes, int warmup, int repeat)
    {
        RedisServerProcess? redis = null;
        var services = new ServiceCollection();
        if (cacheName == "memory")
        {
            // MemoryDistributedCache gives each entry Size = value.Length itself; SizeLimit caps their sum.
            services.AddDistributedMemoryCache(o => o.SizeLimit = poolBytes);
        }
        else
        {
            var policy = cacheName switch
            {
                "zspage-lru" => ZsWritebackPolicy.ZspageLru,
                "entry-clock" => ZsWritebackPolicy.EntryClock,
                _ => throw new ArgumentException($"unknown cache '{cacheName}' (known: {string.Join(", ", CacheNames)})", nameof(cacheName)),
            };
            redis = RedisServerProcess.TryStart(out string? reason) ?? throw new InvalidOperationException(reason);
            string configuration = redis.Configuration;
            services.AddZsCache(o =>
            {
                o.MaxPoolBytes = poolBytes;
                o.InstanceName = "policy:";
                o.WritebackPolicy = policy;
            }).AddRedisWriteback(r => r.Configuration = configuration);
            CountingWritebackTier.Decorate(services);
        }

        try
        {
            await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
            var cache = provider.GetRequiredService<IDistributedCache>();
            var zs = cache as ZsDistributedCache;
            var tier = provider.GetService<CountingWritebackTier>();
            using var listener = zs is null ? null : ListenTo(zs.Meter);
            var counters = new ZsCounters();
            if (listener is not null)
            {
                listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => counters.Add(instrument.Name, value, tags));
                listener.Start();
            }

            var entryOptions = new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromHours(1) };
            int[] requests = trace.Requests;
            int measured = requests.Length - warmup;
            var latencyTicks = new long[measured];
            long hits = 0, misses = 0, verified = 0, mismatches = 0;
            TierCounts tierStart = default;
            ZsCacheStatistics? statsStart = null;
            ZsCounters.Values countersStart = default;
            var clock = new Stopwatch();
            double poolBytesSum = 0, rawHeldSum = 0, entriesSum = 0;
            int samples = 0;

            for (int i = 0; i < requests.Length; i++)
            {
                if (i == warmup)
                {
                    tierStart = tier?.Snapshot() ?? default;
                    statsStart = zs?.GetStatistics();
                    countersStart = counters.Read();
                    hits = misses = 0;
                    clock.Start();
                }

                int index = requests[i];
                string key = corpus.Key(index);
                long t0 = Stopwatch.GetTimestamp();
                byte[]? value = await cache.GetAsync(key).ConfigureAwait(false);
                long elapsed = Stopwatch.GetTimestamp() - t0;
                if (value is not null)
                {
                    hits++;
                    if (value.Length != corpus.Length(index) || (++verified % VerifyEvery == 0 && !value.AsSpan().SequenceEqual(corpus.Value(index))))
                    {
                        mismatches++;
                    }
                }
                else
                {
                    misses++;
                    byte[] loaded = corpus.Value(index); // the "database": not part of the request time
                    long t1 = Stopwatch.GetTimestamp();
                    await cache.SetAsync(key, loaded, entryOptions).ConfigureAwait(false);
                    elapsed += Stopwatch.GetTimestamp() - t1;
                }

                if (i >= warmup)
                {
                    latencyTicks[i - warmup] = elapsed;
                    if (zs is not null && (i - warmup) % SampleEvery == 0)
                    {
                        var sample = zs.GetStatistics();
                        poolBytesSum += sample.PoolBytes;
                        rawHeldSum += sample.StoredOriginalBytes;
                        entriesSum += sample.EntriesInPool;
                        samples++;
                    }
                }
            }

            clock.Stop();
            var tierCounts = (tier?.Snapshot() ?? default) - tierStart;
            var statsEnd = zs?.GetStatistics();
            listener?.RecordObservableInstruments();
            var zsCounts = counters.Read() - countersStart;
            Array.Sort(latencyTicks);
            return new PolicyResult
            {
                Workload = trace.Name,
                Cache = cacheName,
                Repeat = repeat,
                Requests = measured,
                Hits = hits,
                Misses = misses,
                PoolHits = zs is null ? hits : statsEnd!.PoolHits - statsStart!.PoolHits,
                WritebackHits = zs is null ? 0 : statsEnd!.WritebackHits - statsStart!.WritebackHits,
                Refaults = zs is null ? 0 : statsEnd!.Refaults - statsStart!.Refaults,
                RedisReads = tierCounts.Reads,
                RedisReadHits = tierCounts.ReadHits,
                RedisWriteCalls = tierCounts.WriteCalls,
                ObjectsWritten = tierCounts.ObjectsWritten,
                ObjectsOffered = tierCounts.ObjectsOffered,
                BytesWritten = tierCounts.BytesWritten,
                Fences = tierCounts.Fences,
                CompactionMoved = zsCounts.CompactionMoved,
                Dropped = zsCounts.Dropped,
                EntriesInPoolAtEnd = statsEnd?.EntriesInPool ?? 0,
                PoolBytesAtEnd = statsEnd?.PoolBytes ?? 0,
                PoolBytesMean = samples == 0 ? 0 : poolBytesSum / samples,
                RawBytesHeldMean = samples == 0 ? 0 : rawHeldSum / samples,
                EntriesInPoolMean = samples == 0 ? 0 : entriesSum / samples,
                StoredCompressedAtEnd = statsEnd?.StoredCompressedBytes ?? 0,
                StoredOriginalAtEnd = statsEnd?.StoredOriginalBytes ?? 0,
                ClassesAtEnd = statsEnd is null ? null : string.Join(' ', statsEnd.Classes.Where(c => c.Zspages > 0).Select(c => $"{c.Size}:{c.ObjectsAllocated}/{c.ObjectsUsed}/{c.Zspages}x{c.PagesPerZspage}")),
                P50Us = Percentile(latencyTicks, 0.50),
                P99Us = Percentile(latencyTicks, 0.99),
                P999Us = Percentile(latencyTicks, 0.999),
                MeanUs = latencyTicks.Length == 0 ? 0 : latencyTicks.Average() * 1e6 / Stopwatch.Frequency,
                Seconds = clock.Elapsed.TotalSeconds,
                Verified = verified,
                Mismatches = mismatches,
                LoadAverage = ReadLoadAverage(),
            };
        }
        finally
        {
            redis?.Dispose();
        }
    }

    private static MeterListener ListenTo(Meter meter)
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter == meter && instrument.Name is "zscache.compaction.moved" or "zscache.evictions")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        return listener;
    }

    private static double Percentile(long[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[(int)Math.Min(sorted.Length - 1, p * sorted.Length)] * 1e6 / Stopwatch.Frequency;

    private static string? ReadLoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Trim();
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Counts from the <c>ZsCache</c> meter: objects moved by compaction, entries dropped without a writeback.</summary>
    private sealed class ZsCounters
    {
        private long _moved;
        private long _dropped;

        public void Add(string instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            if (instrument == "zscache.compaction.moved")
            {
                Interlocked.Add(ref _moved, value);
                return;
            }

            foreach (var tag in tags)
            {
                // Expiry is not a policy's doing (and nothing expires within a run); shrink and capacity drops are.
                if (tag.Key == "reason" && tag.Value is string reason && reason != "expired")
                {
                    Interlocked.Add(ref _dropped, value);
                }
            }
        }

        public Values Read() => new(Interlocked.Read(ref _moved), Interlocked.Read(ref _dropped));

        public readonly record struct Values(long CompactionMoved, long Dropped)
        {
            public static Values operator -(Values a, Values b) => new(a.CompactionMoved - b.CompactionMoved, a.Dropped - b.Dropped);
        }
    }
}
