namespace ZsCache.Internal;

/// <summary>
/// Hands out entry versions: strictly increasing within the process, and ordered by wall-clock
/// time across processes (a hybrid logical clock). The writeback tier compares versions to keep
/// a Remove or a newer Set final, so the upper bits are milliseconds since the Unix epoch and
/// the lower <see cref="CounterBits"/> bits count within a millisecond.
/// </summary>
internal sealed class VersionClock(TimeProvider timeProvider)
{
    /// <summary>2^20 versions per millisecond before the clock runs ahead of the wall: far more than one process issues.</summary>
    private const int CounterBits = 20;

    private long _last;

    public long Next()
    {
        var wall = timeProvider.GetUtcNow().ToUnixTimeMilliseconds() << CounterBits;
        while (true)
        {
            var last = Volatile.Read(ref _last);
            var next = Math.Max(last + 1, wall);
            if (Interlocked.CompareExchange(ref _last, next, last) == last)
            {
                return next;
            }
        }
    }
}
