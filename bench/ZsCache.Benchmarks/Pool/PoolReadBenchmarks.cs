using BenchmarkDotNet.Attributes;
using ZsCache.Pool;

namespace ZsCache.Benchmarks.Pool;

/// <summary>
/// Read: handle lookup, read guard, copy of the object into a caller buffer, over 4,096
/// resident objects in turn. Baseline: the same copy out of managed arrays.
/// </summary>
[ShortRunJob]
[MemoryDiagnoser]
public class PoolReadBenchmarks
{
    private const int Objects = 4096;

    private ZsPool _pool = null!;
    private readonly ZsHandle[] _handles = new ZsHandle[Objects];
    private readonly byte[][] _arrays = new byte[Objects][];
    private byte[] _buffer = null!;

    [Params(64, 1024, 3000)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _pool = new ZsPool(1L << 30, 64 * 1024);
        _buffer = new byte[Size];
        var rng = new Random(3);
        for (int i = 0; i < Objects; i++)
        {
            _arrays[i] = new byte[Size];
            rng.NextBytes(_arrays[i]);
            _pool.TryMalloc(Size, out _handles[i]);
            _pool.Write(_handles[i], 0, _arrays[i]);
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _pool.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = Objects)]
    public int ManagedArrayCopy()
    {
        int total = 0;
        for (int i = 0; i < Objects; i++)
        {
            _arrays[i].CopyTo(_buffer, 0);
            total += _buffer[0];
        }

        return total;
    }

    [Benchmark(OperationsPerInvoke = Objects)]
    public int PoolRead()
    {
        int total = 0;
        for (int i = 0; i < Objects; i++)
        {
            total += _pool.Read(_handles[i], _buffer, static (data, buffer) =>
            {
                data.CopyTo(buffer);
                return buffer[0];
            });
        }

        return total;
    }
}
