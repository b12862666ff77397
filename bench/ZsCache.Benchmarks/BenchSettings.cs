using System.Globalization;
using ZsCache.Benchmarks.Caches;
using ZsCache.Benchmarks.Corpus;

namespace ZsCache.Benchmarks;

/// <summary>
/// Settings of the BenchmarkDotNet benchmarks. Program turns <c>--caches</c>, <c>--entries</c>,
/// <c>--zipf</c>, <c>--values</c>, <c>--pool-bytes</c> into environment variables so that the
/// benchmark processes BenchmarkDotNet launches see the same settings as the host.
/// </summary>
public static class BenchSettings
{
    public const string CachesVariable = "ZSBENCH_CACHES";
    public const string EntriesVariable = "ZSBENCH_ENTRIES";
    public const string ZipfVariable = "ZSBENCH_ZIPF";
    public const string ValuesVariable = "ZSBENCH_VALUES";
    public const string PoolBytesVariable = "ZSBENCH_POOL_BYTES";

    private static readonly Lock Gate = new();
    private static Dictionary<string, bool>? s_available;

    /// <summary>Caches asked for (default <see cref="CacheHandle.DefaultNames"/>).</summary>
    public static IReadOnlyList<string> RequestedCaches =>
        (Environment.GetEnvironmentVariable(CachesVariable) ?? CacheHandle.DefaultNames)
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Entries held in the cache while it is measured (default 20,000: about 46 MB of values, more than a core's share of L3).</summary>
    public static int Entries => (int)Read(EntriesVariable, 20_000);

    /// <summary>Zipf exponent of the key popularity used for Get and Set (default 0.9).</summary>
    public static double ZipfExponent => Read(ZipfVariable, 0.9);

    /// <summary>Value sets: <c>mixed</c> (the whole corpus), <c>small</c> (≤ 1 KiB), <c>medium</c> (4–8 KiB), <c>large</c> (≥ 8 KiB).</summary>
    public static IReadOnlyList<string> ValueSets =>
        (Environment.GetEnvironmentVariable(ValuesVariable) ?? "mixed")
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>ZsCache's MaxPoolBytes in the benchmarks (default 1 GiB: every entry fits, nothing is shrunk).</summary>
    public static long ZsPoolBytes => (long)Read(PoolBytesVariable, 1L << 30);

    /// <summary>
    /// The requested caches that can be built and round-trip values here; each one that cannot is
    /// printed with its reason ("not available"), never thrown.
    /// </summary>
    public static IEnumerable<string> AvailableCaches(bool requireBuffer)
    {
        lock (Gate)
        {
            if (s_available is null)
            {
                s_available = new Dictionary<string, bool>(StringComparer.Ordinal);
                var corpus = new JsonCorpus();
                foreach (string name in RequestedCaches)
                {
                    using var handle = CacheHandle.TryCreateVerified(name, ZsPoolBytes, corpus, out string? reason);
                    if (handle is null)
                    {
                        Console.WriteLine($"// ZsCache.Benchmarks: cache '{name}' not available: {reason}");
                        continue;
                    }

                    s_available[name] = handle.Buffer is not null;
                    Console.WriteLine($"// ZsCache.Benchmarks: cache '{name}' = {CacheHandle.Describe(name)}{(handle.Buffer is null ? " (no IBufferDistributedCache: TryGet not measured)" : "")}");
                }
            }

            return RequestedCaches.Where(n => s_available.TryGetValue(n, out bool buffer) && (buffer || !requireBuffer)).ToArray();
        }
    }

    /// <summary>The corpus indices making up a value set: <paramref name="count"/> entries, deterministic.</summary>
    public static long[] SelectIndices(JsonCorpus corpus, string valueSet, int count)
    {
        if (valueSet == "mixed")
        {
            return Enumerable.Range(0, count).Select(i => (long)i).ToArray();
        }

        Func<long, bool> accept = valueSet switch
        {
            // Pre-filter on the target size (cheap), confirm on the generated value.
            "small" => i => corpus.TargetSize(i) <= 900 && corpus.Value(i).Length <= 1024,
            "medium" => i => corpus.TargetSize(i) is >= 3800 and <= 8600 && corpus.Value(i).Length is >= 4096 and <= 8192,
            "large" => i => corpus.TargetSize(i) >= 8192 && corpus.Value(i).Length >= 8192,
            _ => throw new ArgumentException($"unknown value set '{valueSet}' (mixed, small, medium, large)"),
        };
        var indices = new long[count];
        int found = 0;
        for (long i = 0; found < count; i++)
        {
            if (accept(i))
            {
                indices[found++] = i;
            }
        }

        return indices;
    }

    private static double Read(string variable, double fallback) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } text
            ? double.Parse(text.Replace("_", "", StringComparison.Ordinal), CultureInfo.InvariantCulture)
            : fallback;
}
