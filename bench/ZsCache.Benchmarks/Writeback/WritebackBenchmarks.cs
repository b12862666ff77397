using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace ZsCache.Benchmarks.Writeback;

/// <summary>
/// Writeback throughput to a loopback redis-server: ZsCache reclaiming every zspage that holds
/// <see cref="Objects"/> corpus values (each zspage's live objects go out as one pipelined batch,
/// one round trip, zspage after zspage), against RedisCache.SetAsync of the same values one by one,
/// in pipelined batches of <see cref="PeerBatch"/> (about what one zspage carries), and all at once.
/// </summary>
/// <remarks>
/// <list type="number">
/// <item><description>Each iteration is one invocation (<c>InvocationCount(1)</c>) and its time is divided
/// by <see cref="Objects"/> (<c>OperationsPerInvoke</c>): the Mean is time per object.</description></item>
/// <item><description>Outside the measured region (<see cref="RefillPool"/>): the values are Set into the
/// pool again, the fences those Sets raise are confirmed by Redis (none pending), and one sweep of
/// <c>ReclaimAsync(zspages)</c> clears every entry's referenced bit: under the default EntryClock
/// policy a fresh entry is spared on the first visit, and that visit is bookkeeping, not
/// writeback.</description></item>
/// <item><description>Measured: <c>ReclaimAsync(zspages)</c>, each step the LRU tail zspage, its objects
/// written back in one batch and freed. <see cref="CheckIteration"/> proves every object was
/// written (the cache's own <c>zscache.writeback.objects</c> counter) and the pool is empty.</description></item>
/// <item><description>The peers need no setup: they overwrite the same keys with the same values each
/// iteration (RedisCache stores the original bytes; ZsCache stores the LZ4 bytes plus a 40-byte
/// header).</description></item>
/// </list>
/// </remarks>
[MemoryDiagnoser]
[InvocationCount(1)]
[Config(typeof(WritebackThroughputConfig))]
public class WritebackBenchmarks
{
    /// <summary>Values written per invocation.</summary>
    public const int Objects = 4096;

    /// <summary>
    /// Values per pipelined batch of the middle peer: the 4096 mixed values fill 420 zspages
    /// (printed by <see cref="Setup"/>), 9.75 objects per zspage, so a zspage's batch is about 10.
    /// </summary>
    public const int PeerBatch = 10;

    private WritebackRig _rig = null!;
    private string[] _keys = [];
    private byte[][] _values = [];
    private long _zspages;
    private long _writtenBefore;
    private long _bytesBefore;
    private string? _failure;

    [Params("mixed")]
    public string Values { get; set; } = "mixed";

    [GlobalSetup]
    public void Setup()
    {
        _rig = WritebackRig.Start();
        (_keys, _values) = WritebackRig.Select(Values, Objects);
        _rig.FillZs(_keys, _values);
        _zspages = _rig.Zspages;
        _rig.EvictAll();
        long raw = _values.Sum(v => (long)v.Length);
        Console.WriteLine($"// setup: values={Values} objects={Objects} raw bytes={raw} zspages={_zspages} objects/zspage={(double)Objects / _zspages:F2} redisPid={_rig.RedisPid}");
    }

    [IterationSetup(Target = nameof(ZsCache_reclaim_to_Redis))]
    public void RefillPool()
    {
        _rig.FillZs(_keys, _values);
        var stats = _rig.Zs.GetStatistics();
        _zspages = stats.Classes.Sum(c => c.Zspages);

        // The EntryClock sweep: every entry referenced, so every one is spared and its bit cleared; nothing is written.
        long written = _rig.WrittenObjects;
        _rig.Zs.ReclaimAsync((int)_zspages).GetAwaiter().GetResult();
        if (_rig.WrittenObjects != written || _rig.Zs.GetStatistics().EntriesInPool != Objects)
        {
            _failure ??= $"the sweep wrote {_rig.WrittenObjects - written} objects; {_rig.Zs.GetStatistics().EntriesInPool} of {Objects} entries left in the pool";
        }

        _writtenBefore = _rig.WrittenObjects;
        _bytesBefore = _rig.WrittenBytes;
    }

    [IterationCleanup(Target = nameof(ZsCache_reclaim_to_Redis))]
    public void CheckIteration()
    {
        long written = _rig.WrittenObjects - _writtenBefore;
        long left = _rig.Zs.GetStatistics().EntriesInPool;
        if (written != Objects || left != 0)
        {
            _failure ??= $"an iteration wrote back {written} of {Objects} objects ({_rig.FailedObjects} failed so far), {left} left in the pool";
        }

        Console.WriteLine($"// iteration: zspages={_zspages} written={written} compressed bytes={_rig.WrittenBytes - _bytesBefore}");
    }

    [Benchmark(OperationsPerInvoke = Objects, Description = "ZsCache ReclaimAsync (zspage per round trip)")]
    public Task<int> ZsCache_reclaim_to_Redis() => _rig.Zs.ReclaimAsync((int)_zspages);

    [Benchmark(Baseline = true, OperationsPerInvoke = Objects, Description = "RedisCache.SetAsync one by one")]
    public async Task RedisCache_SetAsync_one_by_one()
    {
        for (int i = 0; i < _keys.Length; i++)
        {
            await _rig.Peer.SetAsync(_keys[i], _values[i], WritebackRig.NoExpiration).ConfigureAwait(false);
        }
    }

    [Benchmark(OperationsPerInvoke = Objects, Description = "RedisCache.SetAsync pipelined, batches of 10")]
    public async Task RedisCache_SetAsync_batches()
    {
        var batch = new Task[PeerBatch];
        for (int start = 0; start < _keys.Length; start += PeerBatch)
        {
            int n = Math.Min(PeerBatch, _keys.Length - start);
            for (int j = 0; j < n; j++)
            {
                batch[j] = _rig.Peer.SetAsync(_keys[start + j], _values[start + j], WritebackRig.NoExpiration);
            }

            await Task.WhenAll(n == PeerBatch ? batch : batch[..n]).ConfigureAwait(false);
        }
    }

    [Benchmark(OperationsPerInvoke = Objects, Description = "RedisCache.SetAsync all pipelined")]
    public Task RedisCache_SetAsync_all_pipelined()
    {
        var all = new Task[_keys.Length];
        for (int i = 0; i < _keys.Length; i++)
        {
            all[i] = _rig.Peer.SetAsync(_keys[i], _values[i], WritebackRig.NoExpiration);
        }

        return Task.WhenAll(all);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _rig.Dispose();
        if (_failure is not null)
        {
            Console.WriteLine("// WARNING: " + _failure);
            throw new InvalidOperationException(_failure);
        }
    }
}

/// <summary>Adds the throughput columns (objects/s, MB/s of values, MB/s sent) to <see cref="WritebackBenchmarks"/>.</summary>
public sealed class WritebackThroughputConfig : ManualConfig
{
    public WritebackThroughputConfig()
    {
        AddColumn(new ThroughputColumn(ThroughputColumn.Kind.Objects));
        AddColumn(new ThroughputColumn(ThroughputColumn.Kind.ValueBytes));
        AddColumn(new ThroughputColumn(ThroughputColumn.Kind.SentBytes));
    }
}
