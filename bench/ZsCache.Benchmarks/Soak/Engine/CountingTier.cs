using System.Collections.Concurrent;
using ZsCache.Writeback;

namespace ZsCache.Soak;

/// <summary>
/// A pass-through decorator of the writeback tier that counts what the cache asked of it and
/// what came back, for the figures: objects written, superseded and failed, and writeback
/// retries (an object of the same key and version handed to the tier again after it failed:
/// the pool keeps a failed object and a later shrink pass tries it again).
/// </summary>
internal sealed class CountingTier(IZsWritebackTier inner) : IZsWritebackTier
{
    private readonly ConcurrentDictionary<(string Key, long Version), byte> _failed = new();
    private long _written;
    private long _superseded;
    private long _failedCount;
    private long _retries;
    private long _reads;
    private long _readValues;
    private long _fences;
    private long _fencesFailed;
    private long _refreshes;

    public IZsWritebackTier Inner => inner;

    public long Written => Volatile.Read(ref _written);

    public long Superseded => Volatile.Read(ref _superseded);

    public long Failed => Volatile.Read(ref _failedCount);

    public long Retries => Volatile.Read(ref _retries);

    public long Reads => Volatile.Read(ref _reads);

    public long ReadValues => Volatile.Read(ref _readValues);

    public long Fences => Volatile.Read(ref _fences);

    public long FencesFailed => Volatile.Read(ref _fencesFailed);

    public long Refreshes => Volatile.Read(ref _refreshes);

    public TimeSpan FenceLifetime => inner.FenceLifetime;

    public bool IsAvailable => inner.IsAvailable;


    public bool AcceptsWrites => inner.AcceptsWrites;

    public async ValueTask WriteAsync(IReadOnlyList<ZsWritebackItem> items, CancellationToken cancellationToken)
    {
        foreach (var item in items)
        {
            if (_failed.TryRemove((item.Key, item.Version), out _))
            {
                Interlocked.Increment(ref _retries);
            }
        }

        try
        {
            await inner.WriteAsync(items, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            foreach (var item in items)
            {
                switch (item.Outcome)
                {
                    case ZsWritebackOutcome.Written:
                        Interlocked.Increment(ref _written);
                        break;
                    case ZsWritebackOutcome.Superseded:
                        Interlocked.Increment(ref _superseded);
                        break;
                    default:
                        Interlocked.Increment(ref _failedCount);
                        if (_failed.Count < 1_000_000)
                        {
                            _failed.TryAdd((item.Key, item.Version), 0);
                        }

                        break;
                }
            }
        }
    }

    public async ValueTask<ZsWritebackValue?> ReadAsync(string key, DateTimeOffset now, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _reads);
        var value = await inner.ReadAsync(key, now, cancellationToken).ConfigureAwait(false);
        if (value is not null)
        {
            Interlocked.Increment(ref _readValues);
        }

        return value;
    }

    public void SubscribeToFences(Action<string, long> fenced) => inner.SubscribeToFences(fenced);

    public async ValueTask<bool> FenceAsync(string key, long version, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _fences);
        var ok = await inner.FenceAsync(key, version, cancellationToken).ConfigureAwait(false);
        if (!ok)
        {
            Interlocked.Increment(ref _fencesFailed);
        }

        return ok;
    }

    public ValueTask<bool> RefreshAsync(string key, DateTimeOffset now, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _refreshes);
        return inner.RefreshAsync(key, now, cancellationToken);
    }
}
