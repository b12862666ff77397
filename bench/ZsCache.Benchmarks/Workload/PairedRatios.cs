using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Caching.Distributed;
using ZsCache.Benchmarks.Caches;
using ZsCache.Benchmarks.Corpus;

namespace ZsCache.Benchmarks.Workload;

/// <summary>
/// <c>pairs</c> mode: the ratios that targets are stated in (ZsCache Get hit against the dictionary
/// + LZ4 floor), measured so that a loaded, shared machine moves both sides alike.
/// </summary>
/// <remarks>
/// <para>BenchmarkDotNet measures each case in its own process, minutes apart: when other work on the
/// machine comes and goes, two cases can see different machines and their ratio drifts. Here every
/// cache lives in one process, filled with the same entries, and rounds alternate between them
/// (rotating who goes first), each round a block of operations over the same Zipf key sequence.
/// Each block is timed by wall clock and by the thread's CPU time (which leaves out the time the
/// thread waited for a core). The ratio reported is the median over rounds of the per-round ratio.</para>
/// <para>It complements, not replaces, BenchmarkDotNet: no pilot, no overhead subtraction, no jitting
/// control beyond the discarded warm-up rounds.</para>
/// </remarks>
public static class PairedRatios
{
    public static int Run(HarnessArgs options)
    {
        var names = options.GetList("caches", "baseline,zs,memory");
        string op = options.GetString("op", "get");
        string valueSet = options.GetString("values", "mixed");
        int entries = (int)options.GetInt64("entries", 20_000);
        int block = (int)options.GetInt64("block", 20_000);
        int rounds = (int)options.GetInt64("rounds", 30);
        const int WarmupRounds = 3;
        double zipfExponent = options.GetDouble("zipf", 0.9);
        long poolBytes = options.GetBytes("pool-bytes", 1L << 30);

        var corpus = new JsonCorpus();
        long[] indices = BenchSettings.SelectIndices(corpus, valueSet, entries);
        string[] keys = indices.Select(corpus.Key).ToArray();
        byte[][] values = indices.Select(corpus.Value).ToArray();
        int[] sequence = new ZipfSampler(keys.Length, zipfExponent, corpus.Seed).Sequence(1 << 16);

        var handles = new List<CacheHandle>();
        foreach (string name in names)
        {
            var handle = CacheHandle.TryCreateVerified(name, poolBytes, corpus, out string? reason);
            if (handle is null)
            {
                Console.WriteLine($"cache '{name}' not available: {reason}");
                continue;
            }

            if (op == "tryget" && handle.Buffer is null)
            {
                Console.WriteLine($"cache '{name}' is no IBufferDistributedCache: skipped for tryget");
                handle.Dispose();
                continue;
            }

            for (int i = 0; i < keys.Length; i++)
            {
                handle.Cache.Set(keys[i], values[i], new DistributedCacheEntryOptions());
            }

            handles.Add(handle);
        }

        if (handles.Count == 0)
        {
            Console.WriteLine("no cache available");
            return 1;
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"pairs: op={op} values={valueSet} entries={keys.Length} mean value={values.Average(v => v.Length):F0} B zipf={zipfExponent} block={block} rounds={rounds} (+{WarmupRounds} warm-up) load={File.ReadAllText("/proc/loadavg").Trim()}"));

        int n = handles.Count;
        var cpu = new double[n][];
        var wall = new double[n][];
        var alloc = new double[n];
        for (int c = 0; c < n; c++)
        {
            cpu[c] = new double[rounds];
            wall[c] = new double[rounds];
        }

        var writer = new ArrayBufferWriter<byte>(JsonCorpus.MaxValueBytes);
        var options0 = new DistributedCacheEntryOptions();
        int cursor = 0;
        long misses = 0;
        for (int round = -WarmupRounds; round < rounds; round++)
        {
            for (int k = 0; k < n; k++)
            {
                int c = (k + Math.Max(0, round)) % n;
                var cache = handles[c].Cache;
                var buffer = handles[c].Buffer;
                int start = cursor;
                long allocated0 = GC.GetAllocatedBytesForCurrentThread();
                long cpu0 = ThreadCpuClock.NowNanoseconds();
                long t0 = Stopwatch.GetTimestamp();
                for (int i = 0; i < block; i++)
                {
                    int p = sequence[(start + i) & 0xFFFF];
                    switch (op)
                    {
                        case "get":
                            if (cache.Get(keys[p]) is null)
                            {
                                misses++;
                            }

                            break;
                        case "tryget":
                            writer.ResetWrittenCount();
                            if (!buffer!.TryGet(keys[p], writer))
                            {
                                misses++;
                            }

                            break;
                        case "set":
                            cache.Set(keys[p], values[p], options0);
                            break;
                        default:
                            throw new ArgumentException($"unknown op '{op}' (get, tryget, set)");
                    }
                }

                double wallNs = Stopwatch.GetElapsedTime(t0).TotalNanoseconds;
                long cpuNs = ThreadCpuClock.NowNanoseconds() - cpu0;
                long allocated = GC.GetAllocatedBytesForCurrentThread() - allocated0;
                if (round >= 0)
                {
                    cpu[c][round] = cpuNs / (double)block;
                    wall[c][round] = wallNs / block;
                    alloc[c] += allocated / (double)block / rounds;
                }
            }

            // Same keys for every cache in a round; the next round moves on through the sequence.
            cursor += block;
        }

        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine();
        Console.WriteLine($"| cache | {op} CPU ns/op median (p25–p75) | wall ns/op median | bytes/op (this thread) | CPU ratio to {handles[0].Name}: median of rounds (p25–p75) |");
        Console.WriteLine("|---|---|---|---|---|");
        for (int c = 0; c < n; c++)
        {
            var ratios = Enumerable.Range(0, rounds).Select(r => cpu[c][r] / cpu[0][r]).ToArray();
            Console.WriteLine(string.Create(inv,
                $"| {handles[c].Name} | {Q(cpu[c], 0.5):F0} ({Q(cpu[c], 0.25):F0}–{Q(cpu[c], 0.75):F0}) | {Q(wall[c], 0.5):F0} | {alloc[c]:F0} | {Q(ratios, 0.5):F3} ({Q(ratios, 0.25):F3}–{Q(ratios, 0.75):F3}) |"));
        }

        if (misses > 0)
        {
            Console.WriteLine($"WARNING: {misses} misses while measuring hits");
        }

        foreach (var handle in handles)
        {
            handle.Dispose();
        }

        return misses > 0 ? 2 : 0;
    }

    private static double Q(double[] values, double q)
    {
        var sorted = values.Order().ToArray();
        return sorted[(int)Math.Min(sorted.Length - 1, q * sorted.Length)];
    }
}
