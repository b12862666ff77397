using System.Buffers;
using System.Buffers.Binary;
using K4os.Compression.LZ4;
using Microsoft.Extensions.Caching.Distributed;

namespace ZsCache.Benchmarks.Caches;

/// <summary>
/// The floor the issue names for a Get hit: "a dictionary lookup plus a fresh array plus the LZ4
/// decode it needs". A <c>Dictionary&lt;string, byte[]&gt;</c> of LZ4-compressed values (each
/// prefixed with its 4-byte decoded length), <see cref="LZ4Codec.Decode(ReadOnlySpan{byte}, Span{byte})"/>
/// into a new array. Not a cache: no locks, no expiration, no thread safety, no bounds.
/// </summary>
/// <remarks>
/// It is reached through the same <see cref="IDistributedCache"/> interface call as the real caches,
/// so an interface dispatch is in both sides of the comparison. Set is "LZ4 encode + exact-size copy
/// + dictionary store", the matching floor for a compressing cache's Set.
/// </remarks>
public sealed class Lz4DictionaryBaseline : IBufferDistributedCache
{
    private readonly Dictionary<string, byte[]> _entries = new(StringComparer.Ordinal);
    private byte[] _scratch = [];

    public byte[]? Get(string key)
    {
        if (!_entries.TryGetValue(key, out byte[]? stored))
        {
            return null;
        }

        int length = BinaryPrimitives.ReadInt32LittleEndian(stored);
        var value = new byte[length];
        int decoded = LZ4Codec.Decode(stored.AsSpan(sizeof(int)), value);
        if (decoded != length)
        {
            throw new InvalidDataException("LZ4 decode length mismatch");
        }

        return value;
    }

    public bool TryGet(string key, IBufferWriter<byte> destination)
    {
        if (!_entries.TryGetValue(key, out byte[]? stored))
        {
            return false;
        }

        int length = BinaryPrimitives.ReadInt32LittleEndian(stored);
        Span<byte> target = destination.GetSpan(length)[..length];
        if (LZ4Codec.Decode(stored.AsSpan(sizeof(int)), target) != length)
        {
            throw new InvalidDataException("LZ4 decode length mismatch");
        }

        destination.Advance(length);
        return true;
    }

    public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => Set(key, value.AsSpan());

    public void Set(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options) =>
        Set(key, value.IsSingleSegment ? value.FirstSpan : value.ToArray());

    private void Set(string key, ReadOnlySpan<byte> value)
    {
        int max = LZ4Codec.MaximumOutputSize(value.Length);
        if (_scratch.Length < max)
        {
            _scratch = new byte[max];
        }

        int encoded = LZ4Codec.Encode(value, _scratch, LZ4Level.L00_FAST);
        var stored = new byte[sizeof(int) + encoded];
        BinaryPrimitives.WriteInt32LittleEndian(stored, value.Length);
        _scratch.AsSpan(0, encoded).CopyTo(stored.AsSpan(sizeof(int)));
        _entries[key] = stored;
    }

    public Task<byte[]?> GetAsync(string key, CancellationToken token = default) => Task.FromResult(Get(key));

    public ValueTask<bool> TryGetAsync(string key, IBufferWriter<byte> destination, CancellationToken token = default) =>
        ValueTask.FromResult(TryGet(key, destination));

    public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
    {
        Set(key, value, options);
        return Task.CompletedTask;
    }

    public ValueTask SetAsync(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options, CancellationToken token = default)
    {
        Set(key, value, options);
        return ValueTask.CompletedTask;
    }

    public void Refresh(string key)
    {
    }

    public Task RefreshAsync(string key, CancellationToken token = default) => Task.CompletedTask;

    public void Remove(string key) => _entries.Remove(key);

    public Task RemoveAsync(string key, CancellationToken token = default)
    {
        Remove(key);
        return Task.CompletedTask;
    }
}
