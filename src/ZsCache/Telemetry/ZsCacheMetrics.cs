using System.Diagnostics.Metrics;

namespace ZsCache.Telemetry;

/// <summary>
/// The instruments <c>CONTRACT.md</c> names, on a meter called <c>ZsCache</c>. One instance per
/// cache; the observable gauges read the cache through the callbacks it passes in.
/// </summary>
internal sealed class ZsCacheMetrics : IDisposable
{
    public const string MeterName = "ZsCache";

    private static readonly KeyValuePair<string, object?> HitPool = new("result", "hit");
    private static readonly KeyValuePair<string, object?> TierPool = new("tier", "pool");
    private static readonly KeyValuePair<string, object?> TierWriteback = new("tier", "writeback");
    private static readonly KeyValuePair<string, object?> Miss = new("result", "miss");

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Counter<long> _requests;
    private readonly Counter<long> _writebackObjects;
    private readonly Counter<long> _writebackBytes;
    private readonly Counter<long> _evictions;
    private readonly Counter<long> _compactionMoved;
    private readonly Counter<long> _refaults;
    private readonly Counter<long> _invalidations;

    public ZsCacheMetrics(IMeterFactory? meterFactory, ZsCacheGaugeSource source)
    {
        if (meterFactory is null)
        {
            _meter = new Meter(MeterName);
            _ownsMeter = true;
        }
        else
        {
            _meter = meterFactory.Create(MeterName);
        }

        _requests = _meter.CreateCounter<long>("zscache.requests", "{request}", "Reads of the cache, by result and, on hits, by tier.");
        _writebackObjects = _meter.CreateCounter<long>("zscache.writeback.objects", "{object}", "Objects handed to the writeback tier, by result.");
        _writebackBytes = _meter.CreateCounter<long>("zscache.writeback.bytes", "By", "Bytes written to the writeback tier.");
        _evictions = _meter.CreateCounter<long>("zscache.evictions", "{object}", "Entries that left the pool without being written back, by reason.");
        _compactionMoved = _meter.CreateCounter<long>("zscache.compaction.moved", "{object}", "Objects moved by compaction.");
        _refaults = _meter.CreateCounter<long>("zscache.refaults", "{object}", "Reads that faulted in an entry soon after it was written back.");
        _invalidations = _meter.CreateCounter<long>("zscache.invalidations", "{object}", "Entries dropped from the pool because another instance sharing the writeback tier set or removed their key.");
        _meter.CreateObservableGauge("zscache.pool.size", source.PoolBytes, "By", "Bytes of zspage memory the pool holds.");
        _meter.CreateObservableGauge("zscache.pool.limit", source.PoolLimit, "By", "MaxPoolBytes.");
        _meter.CreateObservableGauge("zscache.pool.stored", () => new[]
        {
            new Measurement<long>(source.StoredCompressed(), new KeyValuePair<string, object?>("kind", "compressed")),
            new Measurement<long>(source.StoredOriginal(), new KeyValuePair<string, object?>("kind", "original")),
        }, "By", "Bytes of live values in the pool, as stored and as given.");
        _meter.CreateObservableGauge("zscache.entries", () => new[]
        {
            new Measurement<long>(source.EntriesInPool(), TierPool),
            new Measurement<long>(source.EntriesWrittenBack(), TierWriteback),
        }, "{entry}", "Entries per tier (the writeback figure counts what this instance wrote and has not read back or removed).");
    }

    public Meter Meter => _meter;

    public void Hit(bool fromPool) => _requests.Add(1, HitPool, fromPool ? TierPool : TierWriteback);

    public void Missed() => _requests.Add(1, Miss);

    public void WritebackOk(long objects, long bytes)
    {
        if (objects > 0)
        {
            _writebackObjects.Add(objects, new KeyValuePair<string, object?>("result", "ok"));
            _writebackBytes.Add(bytes);
        }
    }

    public void WritebackFailed(long objects)
    {
        if (objects > 0)
        {
            _writebackObjects.Add(objects, new KeyValuePair<string, object?>("result", "failed"));
        }
    }

    public void Evicted(EvictionReason reason, long count = 1)
    {
        if (count > 0)
        {
            _evictions.Add(count, new KeyValuePair<string, object?>("reason", reason switch
            {
                EvictionReason.Shrink => "shrink",
                EvictionReason.Expired => "expired",
                _ => "capacity",
            }));
        }
    }

    public void CompactionMoved(long objects)
    {
        if (objects > 0)
        {
            _compactionMoved.Add(objects);
        }
    }

    public void Refaulted() => _refaults.Add(1);

    public void Invalidated() => _invalidations.Add(1);

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }
}

/// <summary>Why an entry left the pool without reaching the writeback tier.</summary>
internal enum EvictionReason
{
    /// <summary>Dropped by the shrinker (no tier, or the tier is down).</summary>
    Shrink,

    /// <summary>Its expiration passed.</summary>
    Expired,

    /// <summary>A store the pool could not take, and no tier took it either.</summary>
    Capacity,
}

/// <summary>What the observable gauges read.</summary>
internal sealed record ZsCacheGaugeSource(
    Func<long> PoolBytes,
    Func<long> PoolLimit,
    Func<long> StoredCompressed,
    Func<long> StoredOriginal,
    Func<long> EntriesInPool,
    Func<long> EntriesWrittenBack);
