using System.Buffers;
using System.Text;
using Microsoft.Extensions.Caching.Distributed;

namespace ZsCache.Testing.Conformance;

/// <summary>
/// Tests of <see cref="IBufferDistributedCache"/> (reads into an <see cref="IBufferWriter{T}"/>,
/// stores from multi-segment sequences), for the caches that implement it. Derive once per cache.
/// </summary>
public abstract class BufferDistributedCacheConformanceTests : IDisposable
{
    private static readonly DistributedCacheEntryOptions NoExpiration = new();

    /// <summary>The cache under test.</summary>
    protected abstract IBufferDistributedCache Cache { get; }

    private static DateTimeOffset Now => DateTimeOffset.UtcNow;

    private static string NewKey(string name = "key") => $"{name}-{Guid.NewGuid():N}";

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    [Fact]
    public async Task Buffer_set_from_a_multi_segment_sequence_reads_back_identical()
    {
        var cache = Cache;
        var key = NewKey();
        var value = new byte[70_001];
        new Random(7).NextBytes(value);
        var sequence = Segments.Split(value, 1, 4093, 30_000);
        Assert.False(sequence.IsSingleSegment);

        await cache.SetAsync(key, sequence, NoExpiration);
        var writer = new ArrayBufferWriter<byte>();
        Assert.True(await cache.TryGetAsync(key, writer));
        Assert.Equal(value, writer.WrittenSpan.ToArray());
        Assert.Equal(value, await Cache.GetAsync(key));
    }

    [Fact]
    public void Buffer_sync_forms_round_trip_and_mix_with_byte_arrays()
    {
        var cache = Cache;
        var key = NewKey();
        var value = Bytes(new string('z', 5000) + "tail");
        cache.Set(key, Segments.Split(value, 3, 100), NoExpiration);
        var writer = new ArrayBufferWriter<byte>();
        Assert.True(cache.TryGet(key, writer));
        Assert.Equal(value, writer.WrittenSpan.ToArray());

        Cache.Set(key, Bytes("array"), NoExpiration);
        writer.Clear();
        Assert.True(cache.TryGet(key, writer));
        Assert.Equal(Bytes("array"), writer.WrittenSpan.ToArray());
    }

    [Fact]
    public async Task Buffer_try_get_of_a_missing_key_returns_false_and_writes_nothing()
    {
        var cache = Cache;
        var writer = new ArrayBufferWriter<byte>();
        Assert.False(await cache.TryGetAsync(NewKey("missing"), writer));
        Assert.False(cache.TryGet(NewKey("missing"), writer));
        Assert.Equal(0, writer.WrittenCount);
    }

    [Fact]
    public async Task Buffer_empty_sequence_is_a_value()
    {
        var cache = Cache;
        var key = NewKey();
        await cache.SetAsync(key, ReadOnlySequence<byte>.Empty, NoExpiration);
        var writer = new ArrayBufferWriter<byte>();
        Assert.True(await cache.TryGetAsync(key, writer));
        Assert.Equal(0, writer.WrittenCount);
    }

    [Fact]
    public async Task Buffer_set_with_past_absolute_expiration_throws()
    {
        var cache = Cache;
        var past = new DistributedCacheEntryOptions { AbsoluteExpiration = Now.AddMinutes(-1) };
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await cache.SetAsync(NewKey(), Segments.Split(Bytes("abc"), 1), past));
    }

    /// <summary>Disposes the cache when it is disposable.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Disposes the cache when it is disposable.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            (Cache as IDisposable)?.Dispose();
        }
    }
}
