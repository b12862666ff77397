using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Hybrid;

namespace ZsCache.Benchmarks.Caches;

/// <summary>
/// Lets the harness drive a <see cref="HybridCache"/> through the same <see cref="IDistributedCache"/>
/// calls as every other cache: Get is <c>GetOrCreateAsync</c> of a <c>byte[]</c> that never runs its
/// factory (<see cref="HybridCacheEntryFlags.DisableUnderlyingData"/>, so a miss returns null and
/// stores nothing), Set is <c>SetAsync</c>, Remove is <c>RemoveAsync</c>.
/// </summary>
/// <remarks>
/// <c>byte[]</c> is mutable, so HybridCache's L1 keeps the serialized bytes and hands each caller a
/// fresh copy: an L1 hit costs a lookup and a copy, as a Get of the other caches does. Entries live
/// a day (HybridCache's default is five minutes, shorter than a million-entry fill).
/// </remarks>
internal sealed class HybridCacheAdapter(HybridCache hybrid, HybridCacheEntryFlags flags) : IDistributedCache
{
    private readonly HybridCacheEntryOptions _write = new()
    {
        Expiration = TimeSpan.FromDays(1),
        LocalCacheExpiration = TimeSpan.FromDays(1),
        Flags = flags,
    };

    private readonly HybridCacheEntryOptions _read = new()
    {
        Expiration = TimeSpan.FromDays(1),
        LocalCacheExpiration = TimeSpan.FromDays(1),
        Flags = flags | HybridCacheEntryFlags.DisableUnderlyingData,
    };

    public byte[]? Get(string key)
    {
        // No Task for the synchronous hit: the ValueTask is read in place, as an await would.
        var pending = Read(key, CancellationToken.None);
        return pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
    }

    public Task<byte[]?> GetAsync(string key, CancellationToken token = default) => Read(key, token).AsTask();

    public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => Wait(SetAsync(key, value, options));

    public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default) =>
        hybrid.SetAsync(key, value, _write, cancellationToken: token).AsTask();

    public void Refresh(string key)
    {
        // HybridCache has no sliding expiration to renew.
    }

    public Task RefreshAsync(string key, CancellationToken token = default) => Task.CompletedTask;

    public void Remove(string key) => Wait(RemoveAsync(key));

    public Task RemoveAsync(string key, CancellationToken token = default) => hybrid.RemoveAsync(key, token).AsTask();

    private ValueTask<byte[]?> Read(string key, CancellationToken token) =>
        hybrid.GetOrCreateAsync<byte[]?>(key, static _ => ValueTask.FromResult<byte[]?>(null), _read, cancellationToken: token);

    private static void Wait(Task task) => task.GetAwaiter().GetResult();
}
