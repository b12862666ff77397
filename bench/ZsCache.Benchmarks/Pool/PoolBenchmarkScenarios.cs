using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using ZsCache.Pool;

namespace ZsCache.Benchmarks.Pool;

/// <summary>Deterministic pool workloads shared by the pool benchmarks.</summary>
internal static class PoolBenchmarkScenarios
{
    /// <summary>The fragmentation workload: objects uniform in 32..3072 B (as the test), half freed at random.</summary>
    public const int FragmentationObjects = 100_000;

    public static (ZsPool Pool, ZsHandle[] Live) FillAndFreeHalf(int objects, int seed)
    {
        var pool = new ZsPool(512L * 1024 * 1024, 4096);
        var rng = new Random(seed);
        var handles = new ZsHandle[objects];
        byte[] fill = new byte[3072];
        rng.NextBytes(fill);
        for (int i = 0; i < objects; i++)
        {
            int size = rng.Next(32, 3073);
            if (!pool.TryMalloc(size, out handles[i]))
            {
                throw new InvalidOperationException("the benchmark pool is too small");
            }

            pool.Write(handles[i], 0, fill.AsSpan(0, size));
        }

        var freed = new bool[objects];
        foreach (int i in Enumerable.Range(0, objects).OrderBy(_ => rng.Next()).Take(objects / 2))
        {
            pool.Free(handles[i]);
            freed[i] = true;
        }

        return (pool, handles.Where((_, i) => !freed[i]).ToArray());
    }

    /// <summary>Runs the fragmentation workload once (in the host process) and describes it.</summary>
    public static Lazy<(double Before, double After, ZsCompactionResult Result, long LiveBytes, long TotalBytes)> Fragmentation { get; } = new(() =>
    {
        (ZsPool pool, _) = FillAndFreeHalf(FragmentationObjects, seed: 20240601);
        using (pool)
        {
            double before = pool.GetStatistics().Overhead;
            ZsCompactionResult result = pool.Compact();
            ZsPoolStatistics after = pool.GetStatistics();
            return (before, after.Overhead, result, after.LiveObjectBytes, after.TotalBytes);
        }
    });
}

/// <summary>A summary column whose value is computed once in the host process.</summary>
internal sealed class PoolFigureColumn(string name, string legend, Func<string> value) : IColumn
{
    private readonly Lazy<string> _value = new(value);

    public string Id => $"{nameof(PoolFigureColumn)}.{name}";

    public string ColumnName => name;

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => false;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => legend;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => _value.Value;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => _value.Value;

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
}
