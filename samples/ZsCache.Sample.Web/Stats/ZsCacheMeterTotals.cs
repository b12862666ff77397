using System.Diagnostics.Metrics;

namespace ZsCache.Sample.Web.Stats;

/// <summary>
/// Totals of ZsCache's counters (writebacks, evictions, compaction) since the app started,
/// gathered with a <see cref="MeterListener"/> from the <c>ZsCache</c> meter, the same
/// instruments <c>dotnet-counters</c> and OpenTelemetry read. <see cref="ZsDistributedCache.GetStatistics"/>
/// has the pool, the tiers and the hits; the counters add what happened along the way.
/// </summary>
/// <remarks>
/// Only the meter created by this app's <see cref="IMeterFactory"/> is counted, so several apps
/// in one process (as in the tests) do not add up into each other.
/// </remarks>
public sealed class ZsCacheMeterTotals : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _writebackOk;
    private long _writebackFailed;
    private long _writebackBytes;
    private long _evictedShrink;
    private long _evictedExpired;
    private long _evictedCapacity;
    private long _compactionMoved;

    public ZsCacheMeterTotals(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "ZsCache" && ReferenceEquals(instrument.Meter.Scope, meterFactory))
            {
                listener.EnableMeasurementEvents(instrument, this);
            }
        };
        _listener.SetMeasurementEventCallback<long>(static (instrument, value, tags, state) =>
            ((ZsCacheMeterTotals)state!).Record(instrument.Name, value, tags));
        _listener.Start();
    }

    /// <summary>Objects the writeback tier stored.</summary>
    public long WritebackObjects => Interlocked.Read(ref _writebackOk);

    /// <summary>Objects the writeback tier refused or failed to store (they stayed in the pool).</summary>
    public long WritebackFailed => Interlocked.Read(ref _writebackFailed);

    /// <summary>Bytes written to the writeback tier (compressed, as the pool held them).</summary>
    public long WritebackBytes => Interlocked.Read(ref _writebackBytes);

    public long EvictedShrink => Interlocked.Read(ref _evictedShrink);

    public long EvictedExpired => Interlocked.Read(ref _evictedExpired);

    public long EvictedCapacity => Interlocked.Read(ref _evictedCapacity);

    public long CompactionMoved => Interlocked.Read(ref _compactionMoved);

    private void Record(string instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        switch (instrument)
        {
            case "zscache.writeback.objects":
                if (Tag(tags, "result") == "ok")
                {
                    Interlocked.Add(ref _writebackOk, value);
                }
                else
                {
                    Interlocked.Add(ref _writebackFailed, value);
                }

                break;
            case "zscache.writeback.bytes":
                Interlocked.Add(ref _writebackBytes, value);
                break;
            case "zscache.evictions":
                switch (Tag(tags, "reason"))
                {
                    case "shrink":
                        Interlocked.Add(ref _evictedShrink, value);
                        break;
                    case "expired":
                        Interlocked.Add(ref _evictedExpired, value);
                        break;
                    default:
                        Interlocked.Add(ref _evictedCapacity, value);
                        break;
                }

                break;
            case "zscache.compaction.moved":
                Interlocked.Add(ref _compactionMoved, value);
                break;
            default:
                break;
        }
    }

    private static string? Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string name)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == name)
            {
                return tag.Value as string;
            }
        }

        return null;
    }

    public void Dispose() => _listener.Dispose();
}
