using BenchmarkDotNet.Attributes;
using ZsCache.Pool;

namespace ZsCache.Benchmarks.Pool;

/// <summary>
/// TryMalloc + Write of the whole object, then Free, per object, with 10,000 other objects
/// resident so classes hold partly used zspages, as in a running cache. Baseline: a managed
/// <c>new byte[]</c> plus the same copy (what <c>MemoryDistributedCache</c> pays per value).
/// </summary>
[ShortRunJob]
[MemoryDiagnoser]
public class PoolAllocFreeBenchmarks
{
    private const int Batch = 1000;

    private ZsPool _pool = null!;
    private readonly ZsHandle[] _handles = new ZsHandle[Batch];
    private readonly byte[][] _arrays = new byte[Batch][];
    private byte[] _source = null!;

    /// <summary>Object size in bytes: small, 1 KB, 3 KB, and the large path.</summary>
    [Params(64, 1024, 3000, 20_000)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _pool = new ZsPool(1L << 30, 64 * 1024);
        _source = new byte[Size];
        new Random(1).NextBytes(_source);
        var rng = new Random(2);
        for (int i = 0; i < 10_000; i++)
        {
            _pool.TryMalloc(rng.Next(32, 3073), out _);
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _pool.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = Batch)]
    public void ManagedArray()
    {
        for (int i = 0; i < Batch; i++)
        {
            byte[] a = GC.AllocateUninitializedArray<byte>(Size);
            _source.CopyTo(a, 0);
            _arrays[i] = a;
        }

        Array.Clear(_arrays);
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public void PoolMallocWriteFree()
    {
        for (int i = 0; i < Batch; i++)
        {
            _pool.TryMalloc(Size, out _handles[i]);
            _pool.Write(_handles[i], 0, _source);
        }

        for (int i = 0; i < Batch; i++)
        {
            _pool.Free(_handles[i]);
        }
    }
}
