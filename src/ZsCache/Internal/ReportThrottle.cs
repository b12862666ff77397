namespace ZsCache.Internal;

/// <summary>
/// Counts events that would each deserve a log line and lets one line through per interval
/// with the count since the last, so an event that can come once per request (or once per
/// message a stranger publishes) cannot flood the log.
/// </summary>
internal sealed class ReportThrottle(TimeSpan interval)
{
    private long _unreported;
    private long _reportedAt = long.MinValue;

    /// <summary>The interval between reports.</summary>
    public TimeSpan Interval => interval;

    /// <summary>Counts one event; returns the count to report now, or 0 when the interval has not run out.</summary>
    public long Note()
    {
        Interlocked.Increment(ref _unreported);
        var now = Environment.TickCount64;
        var last = Volatile.Read(ref _reportedAt);
        return (last == long.MinValue || now - last >= (long)interval.TotalMilliseconds)
            && Interlocked.CompareExchange(ref _reportedAt, now, last) == last
            ? Interlocked.Exchange(ref _unreported, 0)
            : 0;
    }
}
