using System.Globalization;
using System.Text;
using System.Text.Json;

namespace ZsCache.Benchmarks.Policy;

/// <summary>
/// <c>policy</c> mode (issue 7): the two writeback victim policies, and MemoryDistributedCache with
/// the same memory, on the same seeded traces. Prints the table of docs/writeback-policy.md and,
/// with <c>--out DIR</c>, writes it there with every run as JSON and the chart's data.
/// </summary>
/// <remarks>
/// <list type="number">
/// <item><description>Size the catalog: the first corpus entries whose raw values add up to
/// <c>--data-ratio</c> (4) times <c>--pool-bytes</c> (32M).</description></item>
/// <item><description>Build each workload's trace once (<see cref="PolicyTrace"/>): <c>--warmup</c>
/// (50,000) requests, then <c>--requests</c> (200,000) measured ones.</description></item>
/// <item><description>Replay it against each cache in turn, each ZsCache against a redis-server of its
/// own on loopback (started here, stopped by pid), <c>--repeats</c> times with the order of the
/// caches rotated; the table shows the median of the repeats.</description></item>
/// </list>
/// </remarks>
public static class PolicyStudy
{
    public static int Run(HarnessArgs options)
    {
        var extra = ParseRest(options.Rest);
        long poolBytes = options.GetBytes("pool-bytes", 32L << 20);
        double dataRatio = GetDouble(extra, "data-ratio", 4);
        int requests = (int)GetInt64(extra, "requests", 200_000);
        int warmup = (int)GetInt64(extra, "warmup", 50_000);
        int repeats = (int)options.GetInt64("repeats", 1);
        ulong seed = (ulong)options.GetInt64("seed", (long)Corpus.JsonCorpus.DefaultSeed);
        var workloads = GetString(extra, "workloads", PolicyTrace.DefaultWorkloads).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var caches = options.GetList("caches", string.Join(',', PolicyRun.CacheNames));
        string? outDir = options.Has("out") ? options.GetString("out", "") : null;
        var inv = CultureInfo.InvariantCulture;

        var corpus = new StudyCorpus(seed);
        int keys = corpus.CountFor((long)(dataRatio * poolBytes));
        long raw = corpus.RawBytes(keys);
        long lz4 = corpus.Lz4Bytes(keys);
        var header = new StringBuilder();
        header.AppendLine(inv, $"policy study: MaxPoolBytes = SizeLimit = {poolBytes / 1048576.0:F0} MiB; catalog {keys:N0} keys, {raw / 1048576.0:F1} MiB raw ({raw / (double)poolBytes:F1}x the pool), {lz4 / 1048576.0:F1} MiB LZ4 ({lz4 / (double)poolBytes:F1}x)");
        header.AppendLine(inv, $"corpus seed {seed}; {warmup:N0} warm-up + {requests:N0} measured requests per run; {repeats} repeat(s); cache-aside (Get, on a miss Set with a 1 h absolute expiry)");
        Console.Write(header);

        var traces = new List<PolicyTrace>();
        foreach (string name in workloads)
        {
            var trace = PolicyTrace.Create(name, keys, warmup + requests, seed);
            corpus.EnsureCount(trace.IndexLimit);
            traces.Add(trace);
            header.AppendLine(inv, $"- {trace.Name}: {trace.Description}; {trace.DistinctKeys:N0} distinct keys read");
            Console.WriteLine(string.Create(inv, $"- {trace.Name}: {trace.Description}; {trace.DistinctKeys:N0} distinct keys read"));
        }

        var results = new List<PolicyResult>();
        foreach (var trace in traces)
        {
            for (int r = 0; r < repeats; r++)
            {
                for (int c = 0; c < caches.Count; c++)
                {
                    string cache = caches[(c + r) % caches.Count];
                    GC.Collect();
                    GC.WaitForPendingFinalizers();
                    var result = PolicyRun.RunAsync(cache, trace, corpus, poolBytes, warmup, r).GetAwaiter().GetResult();
                    results.Add(result);
                    Console.WriteLine(string.Create(inv,
                        $"  {trace.Name,-10} {cache,-12} #{r} pool {result.PoolShare,7:P1} hit {result.HitRatio,7:P1} redis r(fault-in)/w/fence per 1k {result.RedisReadsPer1k,4:F0}({result.FaultInsPer1k,3:F0})/{result.RedisWritesPer1k,5:F0}/{result.FencesPer1k,4:F0} written {result.MiBWritten,6:F1} MiB moved/1k {result.CompactionMovedPer1k,5:F0} dropped {result.Dropped} pool {result.PoolBytesMean / 1048576,4:F1} MiB holds {result.RawBytesHeldMean / 1048576,4:F1} MiB raw p50 {result.P50Us,6:F1} us p99 {result.P99Us,7:F1} us {result.Seconds,5:F1} s mismatches {result.Mismatches} load {result.LoadAverage?.Split(' ')[0]}"));
                    if (result.Mismatches > 0)
                    {
                        Console.Error.WriteLine($"ERROR: {result.Mismatches} hits returned bytes other than the value stored");
                    }
                }
            }
        }

        string table = FormatTable(results, traces, caches);
        Console.WriteLine();
        Console.WriteLine(table);
        if (outDir is not null)
        {
            Directory.CreateDirectory(outDir);
            File.WriteAllText(Path.Combine(outDir, "policy-table.md"), header + Environment.NewLine + table);
            File.WriteAllText(Path.Combine(outDir, "policy-results.json"), JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true }));
            File.WriteAllText(Path.Combine(outDir, "policy-chart.dat"), FormatChartData(results, traces, caches));
            Console.WriteLine($"written to {outDir}: policy-table.md, policy-results.json, policy-chart.dat");
        }

        return results.Any(r => r.Mismatches > 0) ? 1 : 0;
    }

    private static string FormatTable(List<PolicyResult> results, List<PolicyTrace> traces, IReadOnlyList<string> caches)
    {
        var inv = CultureInfo.InvariantCulture;
        var s = new StringBuilder();
        s.AppendLine("| workload | cache | served from pool | total hit ratio | Redis reads /1k req | of which fault-ins | Redis writes /1k req (objects) | fences /1k req | written back MiB | compaction moves /1k req | pool MiB (mean) | raw MiB held (mean) | p50 µs | p99 µs |");
        s.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var trace in traces)
        {
            foreach (string cache in caches)
            {
                var runs = results.Where(r => r.Workload == trace.Name && r.Cache == cache).ToList();
                if (runs.Count == 0)
                {
                    continue;
                }

                bool zs = cache != "memory";
                string Range(Func<PolicyResult, double> f, string format, double scale = 1)
                {
                    string median = (Median(runs.Select(f)) * scale).ToString(format, inv);
                    return runs.Count == 1 ? median : $"{median} ({(runs.Min(f) * scale).ToString(format, inv)}–{(runs.Max(f) * scale).ToString(format, inv)})";
                }

                string Zs(Func<PolicyResult, double> f, string format) => zs ? Median(runs.Select(f)).ToString(format, inv) : "–";
                s.AppendLine(inv,
                    $"| {trace.Name} | {cache} | {Range(r => r.PoolShare, "F1", 100)} % | {Median(runs.Select(r => r.HitRatio)) * 100:F1} % | {Zs(r => r.RedisReadsPer1k, "F0")} | {Zs(r => r.FaultInsPer1k, "F0")} | {Zs(r => r.RedisWritesPer1k, "F0")} | {Zs(r => r.FencesPer1k, "F0")} | {Zs(r => r.MiBWritten, "F1")} | {Zs(r => r.CompactionMovedPer1k, "F0")} | {Zs(r => r.PoolBytesMean / 1048576, "F1")} | {Zs(r => r.RawBytesHeldMean / 1048576, "F1")} | {Median(runs.Select(r => r.P50Us)):F1} | {Range(r => r.P99Us, "F0")} |");
            }
        }

        return s.ToString();
    }

    /// <summary>Gnuplot data: one row per workload, the median of the repeats, columns named in the header.</summary>
    private static string FormatChartData(List<PolicyResult> results, List<PolicyTrace> traces, IReadOnlyList<string> caches)
    {
        var inv = CultureInfo.InvariantCulture;
        var metrics = new (string Name, Func<PolicyResult, double> Get)[]
        {
            ("pool%", r => 100 * r.PoolShare),
            ("hit%", r => 100 * r.HitRatio),
            ("redisReads/1k", r => r.RedisReadsPer1k),
            ("redisWrites/1k", r => r.RedisWritesPer1k),
            ("faultIns/1k", r => r.FaultInsPer1k),
            ("MiBwritten", r => r.MiBWritten),
            ("p99us", r => r.P99Us),
        };
        var s = new StringBuilder();
        s.Append("# workload");
        foreach (var (name, _) in metrics)
        {
            foreach (string cache in caches)
            {
                s.Append(inv, $" {name}:{cache}");
            }
        }

        s.AppendLine();
        foreach (var trace in traces)
        {
            s.Append(trace.Name);
            foreach (var (_, get) in metrics)
            {
                foreach (string cache in caches)
                {
                    var values = results.Where(r => r.Workload == trace.Name && r.Cache == cache).Select(get).ToList();
                    s.Append(inv, $" {(values.Count == 0 ? double.NaN : Median(values)):F3}");
                }
            }

            s.AppendLine();
        }

        return s.ToString();
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN
            : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2]
            : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>This mode's own <c>--name value</c> options, which the shared parser passes through.</summary>
    private static Dictionary<string, string> ParseRest(List<string> rest)
    {
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < rest.Count; i++)
        {
            if (!rest[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= rest.Count)
            {
                throw new ArgumentException($"policy: unexpected argument '{rest[i]}' (options: --pool-bytes, --data-ratio, --requests, --warmup, --workloads, --caches, --repeats, --seed, --out)");
            }

            values[rest[i][2..]] = rest[++i];
        }

        return values;
    }

    private static string GetString(Dictionary<string, string> values, string name, string fallback) =>
        values.TryGetValue(name, out var v) ? v : fallback;

    private static long GetInt64(Dictionary<string, string> values, string name, long fallback) =>
        values.TryGetValue(name, out var v) ? long.Parse(v.Replace("_", "", StringComparison.Ordinal), CultureInfo.InvariantCulture) : fallback;

    private static double GetDouble(Dictionary<string, string> values, string name, double fallback) =>
        values.TryGetValue(name, out var v) ? double.Parse(v, CultureInfo.InvariantCulture) : fallback;
}
