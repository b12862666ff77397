using System.Collections.Concurrent;
using ZsCache.Writeback;

namespace ZsCache.Tests.Cache;

/// <summary>
/// A writeback tier in process memory that keeps the versioned-write and fence rules of
/// <see cref="IZsWritebackTier"/>, with switches to fail, and gates to hold writes and reads
/// mid-flight, so the cache's side of the protocol can be tested step by step. The Redis tier
/// has its own tests against a real server.
/// </summary>
internal sealed class InMemoryTier : IZsWritebackTier
{
    private readonly ConcurrentDictionary<string, Stored> _store = new(StringComparer.Ordinal);

    public sealed record Stored(long Version, bool IsFence, ZsWritebackValue? Value, TimeSpan TimeToLive);

    public TimeSpan FenceLifetime => TimeSpan.FromMinutes(1);

    public bool IsAvailable { get; set; } = true;

    /// <summary>When true every call fails as a down tier would.</summary>
    public bool Failing { get; set; }

    /// <summary>When set, WriteAsync waits on it before storing (to race Sets and Removes against a writeback in flight).</summary>
    public TaskCompletionSource? WriteGate { get; set; }

    /// <summary>Completed when a WriteAsync has entered (before its gate).</summary>
    public TaskCompletionSource WriteEntered { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>When set, ReadAsync waits on it after reading the stored value.</summary>
    public TaskCompletionSource? ReadGate { get; set; }

    public TaskCompletionSource ReadEntered { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>When true writes and fences fail and reads still work, as a full Redis (maxmemory, noeviction) does.</summary>
    public bool RefuseWrites { get; set; }

    /// <summary>When true (with <see cref="RefuseWrites"/>) the tier says so through <see cref="AcceptsWrites"/>, as the Redis tier does once refused.</summary>
    public bool AdvertiseRefusal { get; set; }

    public bool AcceptsWrites => IsAvailable && !(RefuseWrites && AdvertiseRefusal);

    /// <summary>When true, the first refused write sets <see cref="AdvertiseRefusal"/>: the tier learns of the refusal as the Redis tier does.</summary>
    public bool LearnsRefusal { get; set; }

    /// <summary>Keys whose writes the tier refuses.</summary>
    public HashSet<string> Refuse { get; } = [];

    public int Reads;
    public int Writes;
    public int Fences;
    public int FencesFailed;

    /// <summary>When true fences fail and everything else works (a fence lost to a fault that spared the writeback).</summary>
    public bool FailFences { get; set; }

    public IReadOnlyDictionary<string, Stored> Contents => _store;

    /// <summary>The cache's callback for fences written by other instances; a test calls it as another instance's message would.</summary>
    public Action<string, long>? FencedElsewhere { get; private set; }

    public void SubscribeToFences(Action<string, long> fenced) => FencedElsewhere = fenced;

    public void ResetSignals()
    {
        WriteEntered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        ReadEntered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public async ValueTask WriteAsync(IReadOnlyList<ZsWritebackItem> items, CancellationToken cancellationToken)
    {
        WriteEntered.TrySetResult();
        if (WriteGate is { } gate)
        {
            await gate.Task.WaitAsync(cancellationToken);
        }

        foreach (var item in items)
        {
            Interlocked.Increment(ref Writes);
            if (Failing || RefuseWrites || Refuse.Contains(item.Key))
            {
                AdvertiseRefusal |= RefuseWrites && LearnsRefusal;
                item.Outcome = ZsWritebackOutcome.Failed;
                continue;
            }

            var value = new ZsWritebackValue
            {
                Version = item.Version,
                Codec = item.Codec,
                DictionaryId = item.DictionaryId,
                OriginalLength = item.OriginalLength,
                Data = item.Data.ToArray(),
                AbsoluteExpiration = item.AbsoluteExpiration,
                SlidingExpiration = item.SlidingExpiration,
            };
            var stored = false;
            _store.AddOrUpdate(
                item.Key,
                _ => { stored = true; return new Stored(item.Version, false, value, item.TimeToLive); },
                (_, old) =>
                {
                    if (old.Version < item.Version || (old.IsFence && old.Version == item.Version))
                    {
                        stored = true;
                        return new Stored(item.Version, false, value, item.TimeToLive);
                    }

                    stored = false;
                    return old;
                });
            item.Outcome = stored ? ZsWritebackOutcome.Written : ZsWritebackOutcome.Superseded;
        }
    }

    public async ValueTask<ZsWritebackValue?> ReadAsync(string key, DateTimeOffset now, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref Reads);
        ReadEntered.TrySetResult();
        var found = !Failing && _store.TryGetValue(key, out var stored) && !stored.IsFence ? stored.Value : null;
        if (ReadGate is { } gate)
        {
            await gate.Task.WaitAsync(cancellationToken);
        }

        return found;
    }

    public ValueTask<bool> FenceAsync(string key, long version, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref Fences);
        if (Failing || RefuseWrites || FailFences)
        {
            Interlocked.Increment(ref FencesFailed);
            return ValueTask.FromResult(false);
        }

        _store.AddOrUpdate(
            key,
            _ => new Stored(version, true, null, FenceLifetime),
            (_, old) => old.Version < version ? new Stored(version, true, null, FenceLifetime) : old);
        return ValueTask.FromResult(true);
    }

    public ValueTask<bool> RefreshAsync(string key, DateTimeOffset now, CancellationToken cancellationToken)
        => ValueTask.FromResult(!Failing && _store.TryGetValue(key, out var s) && !s.IsFence);

    /// <summary>Plants a value as another instance would have written it.</summary>
    public void Plant(string key, long version, byte[] raw)
        => _store[key] = new Stored(version, false, new ZsWritebackValue { Version = version, Codec = ZsCodec.Raw, OriginalLength = raw.Length, Data = raw }, TimeSpan.FromHours(1));
}
