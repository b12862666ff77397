using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using ZsCache.Pool;

namespace ZsCache.Benchmarks.Pool;

/// <summary>
/// One <see cref="ZsPool.Compact"/> of the fragmentation workload (100,000 objects of
/// 32..3072 B, half freed at random; rebuilt before every iteration, outside the timing).
/// The extra columns, computed once in the host, are the fragmentation figure: pool bytes
/// per live byte before and after, and what the compaction did.
/// </summary>
[Config(typeof(Columns))]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 8, invocationCount: 1)]
[MemoryDiagnoser]
public class PoolCompactionBenchmarks
{
    private ZsPool? _pool;

    [IterationSetup]
    public void Setup() => _pool = PoolBenchmarkScenarios.FillAndFreeHalf(PoolBenchmarkScenarios.FragmentationObjects, seed: 20240601).Pool;

    [IterationCleanup]
    public void Cleanup() => _pool?.Dispose();

    [Benchmark]
    public long Compact() => _pool!.Compact().ObjectsMoved;

    private sealed class Columns : ManualConfig
    {
        public Columns()
        {
            var f = PoolBenchmarkScenarios.Fragmentation;
            AddColumn(
                new PoolFigureColumn("Pool/Live before", "Pool bytes per live object byte after freeing half, before compaction", () => f.Value.Before.ToString("F3", CultureInfo.InvariantCulture)),
                new PoolFigureColumn("Pool/Live after", "Pool bytes per live object byte after compaction", () => f.Value.After.ToString("F3", CultureInfo.InvariantCulture)),
                new PoolFigureColumn("Moved", "Objects moved by the compaction", () => f.Value.Result.ObjectsMoved.ToString(CultureInfo.InvariantCulture)),
                new PoolFigureColumn("PagesFreed", "4 KiB pages freed by the compaction", () => f.Value.Result.PagesFreed.ToString(CultureInfo.InvariantCulture)));
        }
    }
}
