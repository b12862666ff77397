using System.Diagnostics.Metrics;

namespace ZsCache.Soak;

/// <summary>
/// Listens to one cache's <c>ZsCache</c> meter (only that instance's instruments, so caches of
/// other tests in the process do not mix in) and sums the counters the figures need.
/// </summary>
internal sealed class CacheCounters : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _droppedShrink;
    private long _droppedCapacity;
    private long _expired;
    private long _writebackOk;
    private long _writebackFailed;
    private long _refaults;

    public CacheCounters(Meter meter)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, meter))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>(OnMeasurement);
        _listener.Start();
    }

    /// <summary>Entries the shrinker dropped instead of writing back (no tier, or the tier down).</summary>
    public long DroppedByShrink => Volatile.Read(ref _droppedShrink);

    /// <summary>Stores neither the pool nor the tier took.</summary>
    public long DroppedAtCapacity => Volatile.Read(ref _droppedCapacity);

    public long Dropped => DroppedByShrink + DroppedAtCapacity;

    public long Expired => Volatile.Read(ref _expired);

    public long WritebackOk => Volatile.Read(ref _writebackOk);

    public long WritebackFailed => Volatile.Read(ref _writebackFailed);

    public long Refaults => Volatile.Read(ref _refaults);

    private void OnMeasurement(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        switch (instrument.Name)
        {
            case "zscache.evictions":
                switch (Tag(tags, "reason"))
                {
                    case "shrink":
                        Interlocked.Add(ref _droppedShrink, value);
                        break;
                    case "capacity":
                        Interlocked.Add(ref _droppedCapacity, value);
                        break;
                    case "expired":
                        Interlocked.Add(ref _expired, value);
                        break;
                }

                break;
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
            case "zscache.refaults":
                Interlocked.Add(ref _refaults, value);
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
