using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace ZsCache.Benchmarks.Writeback;

/// <summary>
/// Fault-in latency: ZsCache Get of a key that lives only in Redis (written back; the pool does
/// not hold it) against RedisCache Get of the same value on the same redis-server, for values
/// ≤ 1 KiB (<c>small</c>) and 4–8 KiB (<c>medium</c>), async and sync. One caller, one Get at a
/// time: latency, not throughput.
/// </summary>
/// <remarks>
/// <list type="number">
/// <item><description>A fault-in admits the value back into the pool, so a second Get of the key would
/// be a pool hit. Each iteration therefore walks <see cref="Gets"/> distinct keys once
/// (<c>OperationsPerInvoke</c>, one invocation per iteration: Mean is time per Get), and before each
/// iteration (<see cref="EvictAdmitted"/>, not measured) every admitted entry is evicted again.
/// Those entries are clean (Redis still holds the very version), so the eviction frees them without
/// writing anything.</description></item>
/// <item><description><see cref="CheckIteration"/> proves every measured Get was a fault-in: the
/// cache's writeback-hit count rose by exactly <see cref="Gets"/>, its pool-hit count not at all,
/// and nothing was written back.</description></item>
/// <item><description>The peer is RedisCache (AddStackExchangeRedisCache) holding the same original
/// bytes under the same keys (another prefix) in the same redis-server; it needs no setup between
/// iterations.</description></item>
/// </list>
/// </remarks>
[MemoryDiagnoser]
[InvocationCount(1)]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams)]
public class FaultInBenchmarks
{
    /// <summary>Distinct keys read per iteration, each once.</summary>
    public const int Gets = 1000;

    private WritebackRig _rig = null!;
    private string[] _keys = [];
    private byte[][] _values = [];
    private long _writebackHitsBefore;
    private long _poolHitsBefore;
    private long _writtenBefore;
    private long _misses;
    private string? _failure;

    [Params("small", "medium")]
    public string Values { get; set; } = "small";

    [GlobalSetup]
    public void Setup()
    {
        _rig = WritebackRig.Start();
        (_keys, _values) = WritebackRig.Select(Values, Gets);
        long written = _rig.WrittenObjects;
        _rig.FillZs(_keys, _values);
        _rig.EvictAll();
        if (_rig.WrittenObjects - written != Gets)
        {
            throw new InvalidOperationException($"{_rig.WrittenObjects - written} of {Gets} values written back");
        }

        var pending = new Task[_keys.Length];
        for (int i = 0; i < _keys.Length; i++)
        {
            pending[i] = _rig.Peer.SetAsync(_keys[i], _values[i], WritebackRig.NoExpiration);
        }

        Task.WaitAll(pending);
        long raw = _values.Sum(v => (long)v.Length);
        Console.WriteLine($"// setup: values={Values} keys={Gets} mean value bytes={raw / Gets} min={_values.Min(v => v.Length)} max={_values.Max(v => v.Length)} redisPid={_rig.RedisPid}");
    }

    [IterationSetup(Targets = [nameof(ZsCache_GetAsync_fault_in), nameof(ZsCache_Get_fault_in)])]
    public void EvictAdmitted()
    {
        _rig.EvictAll();
        var stats = _rig.Zs.GetStatistics();
        _writebackHitsBefore = stats.WritebackHits;
        _poolHitsBefore = stats.PoolHits;
        _writtenBefore = _rig.WrittenObjects;
    }

    [IterationCleanup(Targets = [nameof(ZsCache_GetAsync_fault_in), nameof(ZsCache_Get_fault_in)])]
    public void CheckIteration()
    {
        var stats = _rig.Zs.GetStatistics();
        long faultIns = stats.WritebackHits - _writebackHitsBefore;
        long poolHits = stats.PoolHits - _poolHitsBefore;
        if (faultIns != Gets || poolHits != 0 || _rig.WrittenObjects != _writtenBefore || stats.EntriesInPool != Gets)
        {
            _failure ??= $"an iteration made {faultIns} fault-ins and {poolHits} pool hits of {Gets} Gets, wrote {_rig.WrittenObjects - _writtenBefore}, admitted {stats.EntriesInPool}";
        }
    }

    [BenchmarkCategory("async")]
    [Benchmark(OperationsPerInvoke = Gets, Description = "ZsCache.GetAsync, fault-in")]
    public async Task<long> ZsCache_GetAsync_fault_in()
    {
        long bytes = 0;
        foreach (string key in _keys)
        {
            bytes += await _rig.Zs.GetAsync(key).ConfigureAwait(false) is { } value ? value.Length : Miss();
        }

        return bytes;
    }

    [BenchmarkCategory("async")]
    [Benchmark(Baseline = true, OperationsPerInvoke = Gets, Description = "RedisCache.GetAsync")]
    public async Task<long> RedisCache_GetAsync()
    {
        long bytes = 0;
        foreach (string key in _keys)
        {
            bytes += await _rig.Peer.GetAsync(key).ConfigureAwait(false) is { } value ? value.Length : Miss();
        }

        return bytes;
    }

    [BenchmarkCategory("sync")]
    [Benchmark(OperationsPerInvoke = Gets, Description = "ZsCache.Get, fault-in")]
    public long ZsCache_Get_fault_in()
    {
        long bytes = 0;
        foreach (string key in _keys)
        {
            bytes += _rig.Zs.Get(key) is { } value ? value.Length : Miss();
        }

        return bytes;
    }

    [BenchmarkCategory("sync")]
    [Benchmark(Baseline = true, OperationsPerInvoke = Gets, Description = "RedisCache.Get")]
    public long RedisCache_Get()
    {
        long bytes = 0;
        foreach (string key in _keys)
        {
            bytes += _rig.Peer.Get(key) is { } value ? value.Length : Miss();
        }

        return bytes;
    }

    private int Miss()
    {
        _misses++;
        return 0;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _rig.Dispose();
        if (_misses > 0)
        {
            _failure ??= $"{_misses} Gets returned null";
        }

        if (_failure is not null)
        {
            Console.WriteLine("// WARNING: " + _failure);
            throw new InvalidOperationException(_failure);
        }
    }
}
