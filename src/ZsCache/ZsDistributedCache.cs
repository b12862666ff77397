using System.Buffers;
using Microsoft.Extensions.Caching.Distributed;

namespace ZsCache;

/// <summary>
/// An <see cref="IDistributedCache"/> that compresses values into an in-process
/// zsmalloc-style pool and writes cold zspages back to a writeback tier.
/// </summary>
public sealed partial class ZsDistributedCache : IBufferDistributedCache, IDisposable
{
    /// <inheritdoc />
    public byte[]? Get(string key) => throw new NotSupportedException("pending");

    /// <inheritdoc />
    public Task<byte[]?> GetAsync(string key, CancellationToken token = default) => throw new NotSupportedException("pending");

    /// <inheritdoc />
    public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => throw new NotSupportedException("pending");

    /// <inheritdoc />
    public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default) => throw new NotSupportedException("pending");

    /// <inheritdoc />
    public void Refresh(string key) => throw new NotSupportedException("pending");

    /// <inheritdoc />
    public Task RefreshAsync(string key, CancellationToken token = default) => throw new NotSupportedException("pending");

    /// <inheritdoc />
    public void Remove(string key) => throw new NotSupportedException("pending");

    /// <inheritdoc />
    public Task RemoveAsync(string key, CancellationToken token = default) => throw new NotSupportedException("pending");

    /// <inheritdoc />
    public bool TryGet(string key, IBufferWriter<byte> destination) => throw new NotSupportedException("pending");

    /// <inheritdoc />
    public ValueTask<bool> TryGetAsync(string key, IBufferWriter<byte> destination, CancellationToken token = default) => throw new NotSupportedException("pending");

    /// <inheritdoc />
    public void Set(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options) => throw new NotSupportedException("pending");

    /// <inheritdoc />
    public ValueTask SetAsync(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options, CancellationToken token = default) => throw new NotSupportedException("pending");

    /// <inheritdoc />
    public void Dispose()
    {
    }
}
