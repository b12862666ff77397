using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using ZsCache.Pool;

namespace ZsCache.Benchmarks.Pool;

/// <summary>
/// Reclaim throughput, per 4 KiB page: a pool of 40,000 objects of 1 KiB (10,000 one-page
/// zspages, rebuilt before every iteration) reclaimed to empty, each object read out (as a
/// writeback would copy it) and freed.
/// <list type="bullet">
/// <item><c>Shrink</c>: the synchronous kernel-style path.</item>
/// <item><c>TwoPhase</c>: TryBeginReclaim / read + free each / EndReclaim, as the cache's
/// asynchronous writeback drives it.</item>
/// </list>
/// </summary>
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 8, invocationCount: 1)]
[MemoryDiagnoser]
public class PoolReclaimBenchmarks
{
    private const int Objects = 40_000;
    private const int Pages = Objects / 4;

    private readonly byte[] _buffer = new byte[1024];
    private ZsPool? _pool;

    [IterationSetup]
    public void Setup()
    {
        _pool = new ZsPool(256L * 1024 * 1024, 4096);
        for (int i = 0; i < Objects; i++)
        {
            _pool.TryMalloc(1024, out ZsHandle h);
            _pool.Write(h, 0, _buffer);
        }
    }

    [IterationCleanup]
    public void Cleanup() => _pool?.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = Pages)]
    public int Shrink()
    {
        ZsPool pool = _pool!;
        return pool.Shrink(int.MaxValue, h =>
        {
            pool.Read(h, _buffer, static (d, b) =>
            {
                d.CopyTo(b);
                return 0;
            });
            pool.Free(h);
            return true;
        });
    }

    [Benchmark(OperationsPerInvoke = Pages)]
    public int TwoPhase()
    {
        ZsPool pool = _pool!;
        int freed = 0;
        while (pool.TryBeginReclaim(out ZsReclaim? reclaim))
        {
            foreach (ZsHandle h in reclaim.Handles)
            {
                pool.Read(h, _buffer, static (d, b) =>
                {
                    d.CopyTo(b);
                    return 0;
                });
                pool.Free(h);
            }

            freed += pool.EndReclaim(reclaim);
        }

        return freed;
    }
}
