using Microsoft.Extensions.DependencyInjection;
using ZsCache.Writeback;

namespace ZsCache.Benchmarks.Policy;

/// <summary>
/// Counts what a <see cref="ZsDistributedCache"/> asks of its writeback tier, at the tier: each
/// call here is Redis traffic (one pipelined round trip per call; a write batch stores several
/// objects). Wraps the <see cref="IZsWritebackTier"/> the app registered, so the cache under
/// study is built exactly as an app builds it.
/// </summary>
public sealed class CountingWritebackTier(IZsWritebackTier inner) : IZsWritebackTier
{
    private long _reads;
    private long _readHits;
    private long _writeCalls;
    private long _objectsOffered;
    private long _objectsWritten;
    private long _bytesWritten;
    private long _fences;
    private long _refreshes;

    /// <summary>Replaces the last <see cref="IZsWritebackTier"/> registration with a counting decorator of it.</summary>
    public static void Decorate(IServiceCollection services)
    {
        var registered = services.LastOrDefault(d => d.ServiceType == typeof(IZsWritebackTier))
            ?? throw new InvalidOperationException("No IZsWritebackTier is registered: call AddRedisWriteback first.");
        services.Remove(registered);
        services.AddSingleton(sp => new CountingWritebackTier(Resolve(registered, sp)));
        services.AddSingleton<IZsWritebackTier>(sp => sp.GetRequiredService<CountingWritebackTier>());
    }

    private static IZsWritebackTier Resolve(ServiceDescriptor registered, IServiceProvider sp) =>
        (IZsWritebackTier)(registered.ImplementationInstance
            ?? registered.ImplementationFactory?.Invoke(sp)
            ?? ActivatorUtilities.CreateInstance(sp, registered.ImplementationType!));

    public TimeSpan FenceLifetime => inner.FenceLifetime;

    public bool IsAvailable => inner.IsAvailable;


    public bool AcceptsWrites => inner.AcceptsWrites;

    /// <summary>The counts so far.</summary>
    public TierCounts Snapshot() => new(
        Interlocked.Read(ref _reads),
        Interlocked.Read(ref _readHits),
        Interlocked.Read(ref _writeCalls),
        Interlocked.Read(ref _objectsOffered),
        Interlocked.Read(ref _objectsWritten),
        Interlocked.Read(ref _bytesWritten),
        Interlocked.Read(ref _fences),
        Interlocked.Read(ref _refreshes));

    public async ValueTask WriteAsync(IReadOnlyList<ZsWritebackItem> items, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _writeCalls);
        Interlocked.Add(ref _objectsOffered, items.Count);
        try
        {
            await inner.WriteAsync(items, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            long written = 0, bytes = 0;
            foreach (var item in items)
            {
                if (item.Outcome == ZsWritebackOutcome.Written)
                {
                    written++;
                    bytes += item.Data.Length;
                }
            }

            Interlocked.Add(ref _objectsWritten, written);
            Interlocked.Add(ref _bytesWritten, bytes);
        }
    }

    public async ValueTask<ZsWritebackValue?> ReadAsync(string key, DateTimeOffset now, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _reads);
        var value = await inner.ReadAsync(key, now, cancellationToken).ConfigureAwait(false);
        if (value is not null)
        {
            Interlocked.Increment(ref _readHits);
        }

        return value;
    }

    public void SubscribeToFences(Action<string, long> fenced) => inner.SubscribeToFences(fenced);

    public ValueTask<bool> FenceAsync(string key, long version, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _fences);
        return inner.FenceAsync(key, version, cancellationToken);
    }

    public ValueTask<bool> RefreshAsync(string key, DateTimeOffset now, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _refreshes);
        return inner.RefreshAsync(key, now, cancellationToken);
    }
}

/// <summary>Calls the cache made of its writeback tier. Subtract two snapshots for a window.</summary>
/// <param name="Reads">ReadAsync calls (fault-in attempts: one Redis round trip each).</param>
/// <param name="ReadHits">Reads that returned a value.</param>
/// <param name="WriteCalls">WriteAsync calls (one pipelined round trip each).</param>
/// <param name="ObjectsOffered">Objects handed to WriteAsync.</param>
/// <param name="ObjectsWritten">Objects the tier reported stored.</param>
/// <param name="BytesWritten">Bytes of those objects (compressed, as the pool held them).</param>
/// <param name="Fences">FenceAsync calls (every Set and Remove fences older copies: one Redis write each).</param>
/// <param name="Refreshes">RefreshAsync calls.</param>
public readonly record struct TierCounts(
    long Reads, long ReadHits, long WriteCalls, long ObjectsOffered, long ObjectsWritten, long BytesWritten, long Fences, long Refreshes)
{
    public static TierCounts operator -(TierCounts a, TierCounts b) => new(
        a.Reads - b.Reads,
        a.ReadHits - b.ReadHits,
        a.WriteCalls - b.WriteCalls,
        a.ObjectsOffered - b.ObjectsOffered,
        a.ObjectsWritten - b.ObjectsWritten,
        a.BytesWritten - b.BytesWritten,
        a.Fences - b.Fences,
        a.Refreshes - b.Refreshes);
}
