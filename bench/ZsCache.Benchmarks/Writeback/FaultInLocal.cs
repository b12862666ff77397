using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Options;
using ZsCache.Writeback;

namespace ZsCache.Benchmarks.Writeback;

/// <summary>
/// <c>faultin-local</c> mode: what ZsCache's fault-in path costs on top of the tier's read, with
/// the network taken out. The cache gets an in-memory tier whose reads complete synchronously
/// (a dictionary of the written-back items), so a Get of a written-back key pays only ZsCache's
/// own machinery: the miss in the pool, the coalescing dictionary, <c>Task.Yield</c>, the LZ4
/// decode, admission back into the pool, the copy handed to the caller, and for the sync Get the
/// wait of the calling thread on a task that runs on the thread pool. A pool hit of the same keys
/// is shown beside it.
/// </summary>
public static class FaultInLocal
{
    public static int Run(HarnessArgs options)
    {
        string valueSet = options.GetString("values", "small");
        int count = (int)options.GetInt64("entries", 2000);
        int rounds = (int)options.GetInt64("rounds", 20);
        Console.WriteLine($"faultin-local values={valueSet} keys={count} rounds={rounds} (+3 warm-up) load average {File.ReadAllText("/proc/loadavg")[..14]}");
        var (keys, values) = WritebackRig.Select(valueSet, count);
        var tier = new MemoryTier();
        using var cache = new ZsDistributedCache(Options.Create(new ZsCacheOptions { MaxPoolBytes = WritebackRig.PoolBytes }), tier);
        for (int i = 0; i < count; i++)
        {
            cache.Set(keys[i], values[i], WritebackRig.NoExpiration);
        }

        while (cache.GetStatistics().PendingFences > 0)
        {
            Thread.Sleep(1);
        }

        var results = new Dictionary<string, List<double>> { ["pool hit, Get"] = [], ["fault-in, GetAsync"] = [], ["fault-in, Get (sync)"] = [] };
        var allocated = results.Keys.ToDictionary(k => k, _ => 0L);
        for (int round = 0; round < rounds + 3; round++)
        {
            foreach (string name in results.Keys)
            {
                EvictAll(cache);
                if (name.StartsWith("pool", StringComparison.Ordinal))
                {
                    foreach (string key in keys)
                    {
                        _ = cache.Get(key);
                    }
                }

                long hits = cache.GetStatistics().WritebackHits;
                long bytes = GC.GetTotalAllocatedBytes(precise: false);
                long start = Stopwatch.GetTimestamp();
                if (name.Contains("GetAsync", StringComparison.Ordinal))
                {
                    GetAllAsync(cache, keys).GetAwaiter().GetResult();
                }
                else
                {
                    foreach (string key in keys)
                    {
                        _ = cache.Get(key) ?? throw new InvalidDataException("miss");
                    }
                }

                double micros = Stopwatch.GetElapsedTime(start).TotalMicroseconds / count;
                long faultIns = cache.GetStatistics().WritebackHits - hits;
                if (faultIns != (name.StartsWith("pool", StringComparison.Ordinal) ? 0 : count))
                {
                    throw new InvalidOperationException($"{name}: {faultIns} fault-ins for {count} Gets");
                }

                if (round >= 3)
                {
                    results[name].Add(micros);
                    allocated[name] += GC.GetTotalAllocatedBytes(precise: false) - bytes;
                }
            }
        }

        Console.WriteLine($"values={valueSet}: mean value {values.Average(v => v.Length):F0} B; load average at the end {File.ReadAllText("/proc/loadavg")[..14]}");
        Console.WriteLine();
        Console.WriteLine("| ZsCache, in-memory tier | µs/Get median (p25–p75) | B/Get (process) |");
        Console.WriteLine("|---|---:|---:|");
        foreach (var (name, samples) in results)
        {
            var sorted = samples.Order().ToArray();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {sorted[sorted.Length / 2]:F2} ({sorted[sorted.Length / 4]:F2}–{sorted[sorted.Length * 3 / 4]:F2}) | {allocated[name] / ((long)rounds * count):N0} |"));
        }

        return 0;
    }

    private static async Task GetAllAsync(ZsDistributedCache cache, string[] keys)
    {
        foreach (string key in keys)
        {
            _ = await cache.GetAsync(key).ConfigureAwait(false) ?? throw new InvalidDataException("miss");
        }
    }

    private static void EvictAll(ZsDistributedCache cache)
    {
        for (int pass = 0; pass < 8 && cache.GetStatistics().EntriesInPool > 0; pass++)
        {
            cache.ReclaimAsync((int)(2 * cache.GetStatistics().Classes.Sum(c => c.Zspages)) + 16).GetAwaiter().GetResult();
        }
    }

    /// <summary>A tier in a dictionary: writes always land, reads complete synchronously, fences are no-ops.</summary>
    private sealed class MemoryTier : IZsWritebackTier
    {
        private readonly ConcurrentDictionary<string, ZsWritebackValue> _values = new(StringComparer.Ordinal);

        public TimeSpan FenceLifetime => TimeSpan.FromMinutes(1);

        public bool IsAvailable => true;

        public ValueTask WriteAsync(IReadOnlyList<ZsWritebackItem> items, CancellationToken cancellationToken)
        {
            foreach (var item in items)
            {
                _values[item.Key] = new ZsWritebackValue
                {
                    Version = item.Version,
                    Codec = item.Codec,
                    OriginalLength = item.OriginalLength,
                    Data = item.Data.ToArray(),
                    AbsoluteExpiration = item.AbsoluteExpiration,
                    SlidingExpiration = item.SlidingExpiration,
                };
                item.Outcome = ZsWritebackOutcome.Written;
            }

            return ValueTask.CompletedTask;
        }

        public ValueTask<ZsWritebackValue?> ReadAsync(string key, DateTimeOffset now, CancellationToken cancellationToken) =>
            ValueTask.FromResult(_values.TryGetValue(key, out var value) ? value : null);

        public ValueTask<bool> FenceAsync(string key, long version, CancellationToken cancellationToken) => ValueTask.FromResult(true);

        public ValueTask<bool> RefreshAsync(string key, DateTimeOffset now, CancellationToken cancellationToken) => ValueTask.FromResult(_values.ContainsKey(key));
    }
}
