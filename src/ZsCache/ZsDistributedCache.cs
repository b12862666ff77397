using System.Buffers;
using System.Diagnostics.Metrics;
using System.Text;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ZsCache.Cache;
using ZsCache.Compression;
using ZsCache.Internal;
using ZsCache.Pool;
using ZsCache.Telemetry;
using ZsCache.Writeback;

namespace ZsCache;

/// <summary>
/// An <see cref="IDistributedCache"/> that compresses values into an in-process
/// zsmalloc-style pool and writes cold zspages back to a writeback tier.
/// </summary>
/// <remarks>
/// <para>The data paths (see <c>DESIGN.md</c>):</para>
/// <list type="number">
/// <item><description>Set: validate, compress (raw when it does not shrink), allocate in the pool,
/// copy key and value in, publish in the key index under the shard lock (the version is taken
/// there, so publication order is version order), free the previous object, fence older copies
/// in the tier, wake the shrinker above the high watermark. A store the pool cannot take goes to
/// the tier, as zswap sends a rejected page to swap, or is dropped when there is none.</description></item>
/// <item><description>Get: index, expiry, decode straight from the pool into the caller's buffer under
/// the shard lock, renew sliding expiration. Not resident: fault in from the tier (one fetch per
/// key however many readers), check, decode, admit back when there is room.</description></item>
/// <item><description>Shrink (background, between watermarks): compact when fragmentation pays, else
/// reclaim the LRU tail zspage: batch its live objects to the tier in one call, free those that
/// landed, put the zspage back if any stayed.</description></item>
/// <item><description>Remove: free the object and fence the tier's copy.</description></item>
/// </list>
/// <para>Lock ordering: shard lock, then the pool's own locks. No shard lock is held across an
/// await or while another shard's lock is held.</para>
/// </remarks>
public sealed partial class ZsDistributedCache : IBufferDistributedCache, IDisposable
{
    /// <summary>Stripes of the key index: enough that two cores rarely meet on one lock.</summary>
    private const int ShardBits = 8;

    /// <summary>Keys up to this many UTF-8 bytes are encoded on the stack.</summary>
    private const int StackKeyBytes = 256;

    private readonly ZsCacheOptions _options;
    private readonly ZsPool _pool;
    private readonly IndexShard[] _shards;
    private readonly IZsWritebackTier? _tier;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ZsCacheMetrics _metrics;
    private readonly VersionClock _clock;
    private readonly long _highWatermark;
    private readonly long _lowWatermark;

    private long _entries;
    private long _storedCompressed;
    private long _storedOriginal;
    private long _writtenBack;
    private long _hitsPool;
    private long _hitsWriteback;
    private long _misses;
    private int _disposed;

    /// <summary>Creates a cache with the given options and, optionally, a writeback tier.</summary>
    /// <param name="optionsAccessor">The options; validated here as at startup.</param>
    /// <param name="writebackTier">Where cold values go; null for a pool-only cache that drops them.</param>
    /// <param name="timeProvider">The clock for expiration; <see cref="TimeProvider.System"/> when null.</param>
    /// <param name="loggerFactory">Logging; none when null.</param>
    /// <param name="meterFactory">Creates the <c>ZsCache</c> meter; a plain meter when null.</param>
    public ZsDistributedCache(
        IOptions<ZsCacheOptions> optionsAccessor,
        IZsWritebackTier? writebackTier = null,
        TimeProvider? timeProvider = null,
        ILoggerFactory? loggerFactory = null,
        IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(optionsAccessor);
        _options = optionsAccessor.Value;
        var validation = new ZsCacheOptionsValidator().Validate(Microsoft.Extensions.Options.Options.DefaultName, _options);
        if (validation.Failed)
        {
            throw new OptionsValidationException(Microsoft.Extensions.Options.Options.DefaultName, typeof(ZsCacheOptions), validation.Failures);
        }

        _tier = writebackTier;
        _time = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)loggerFactory?.CreateLogger<ZsDistributedCache>() ?? NullLogger.Instance;
        _clock = new VersionClock(_time);
        // The largest object: a value at its limit with the longest key, but never more than the
        // pool could hold in whole pages; anything larger bypasses the pool.
        var maxObject = Math.Min(
            _options.MaxValueBytes + ObjectLayout.HeaderSize + ObjectLayout.MaxKeyBytes,
            Math.Min(_options.MaxPoolBytes / ZsPool.PageSize * ZsPool.PageSize, ZsPool.MaxObjectBytesLimit));
        _pool = new ZsPool(_options.MaxPoolBytes, (int)maxObject);

        // Watermarks as zswap's accept threshold: shrink from 90 % down to 80 %, so stores rarely
        // meet a full pool and the shrinker works in batches rather than page by page.
        _highWatermark = _options.MaxPoolBytes / 10 * 9;
        _lowWatermark = _options.MaxPoolBytes / 10 * 8;

        _shards = new IndexShard[1 << ShardBits];
        for (var i = 0; i < _shards.Length; i++)
        {
            _shards[i] = new IndexShard();
        }

        _metrics = new ZsCacheMetrics(meterFactory, new ZsCacheGaugeSource(
            () => _pool.TotalBytes,
            () => _options.MaxPoolBytes,
            () => Volatile.Read(ref _storedCompressed),
            () => Volatile.Read(ref _storedOriginal),
            () => Volatile.Read(ref _entries),
            () => Math.Max(0, Volatile.Read(ref _writtenBack))));

        StartBackgroundWork();
    }

    /// <summary>The options in force.</summary>
    internal ZsCacheOptions Options => _options;

    internal ZsPool Pool => _pool;

    internal Meter Meter => _metrics.Meter;

    internal IZsWritebackTier? Tier => _tier;

    // ---- IDistributedCache ----

    /// <inheritdoc />
    public byte[]? Get(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        ThrowIfDisposed();
        var sink = new ArraySink();
        if (ReadFromPool(key, ref sink) is var outcome && outcome == ReadOutcome.Hit)
        {
            return sink.Result;
        }

        if (outcome == ReadOutcome.NotResident && _tier is not null)
        {
            var (fetch, slot) = FetchShared(key);
            return TakeFaultIn(fetch.GetAwaiter().GetResult(), slot);
        }

        RecordMiss();
        return null;
    }

    /// <inheritdoc />
    public async Task<byte[]?> GetAsync(string key, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ThrowIfDisposed();
        token.ThrowIfCancellationRequested();
        var sink = new ArraySink();
        var outcome = ReadFromPool(key, ref sink);
        if (outcome == ReadOutcome.Hit)
        {
            return sink.Result;
        }

        if (outcome == ReadOutcome.NotResident && _tier is not null)
        {
            var (fetch, slot) = FetchShared(key);
            return TakeFaultIn(await fetch.WaitAsync(token).ConfigureAwait(false), slot);
        }

        RecordMiss();
        return null;
    }

    /// <inheritdoc />
    public void Set(string key, byte[] value, DistributedCacheEntryOptions options)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(options);
        SetCore(key, value, options).GetAwaiter().GetResult();
    }

    /// <inheritdoc />
    public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(options);
        token.ThrowIfCancellationRequested();
        return SetCore(key, value, options).AsTask();
    }

    /// <inheritdoc />
    public void Refresh(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        ThrowIfDisposed();
        if (!RefreshInPool(key) && _tier is not null && !IsFenced(key))
        {
            _tier.RefreshAsync(key, _time.GetUtcNow(), CancellationToken.None).AsTask().GetAwaiter().GetResult();
        }
    }

    /// <inheritdoc />
    public async Task RefreshAsync(string key, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ThrowIfDisposed();
        token.ThrowIfCancellationRequested();
        if (!RefreshInPool(key) && _tier is not null && !IsFenced(key))
        {
            await _tier.RefreshAsync(key, _time.GetUtcNow(), token).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public void Remove(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        ThrowIfDisposed();
        var version = RemoveFromPool(key);
        if (_tier is not null)
        {
            // The local fence makes the remove final here at once; the tier's fence follows in
            // the background so a synchronous caller does not wait on the network.
            RequestFence(key, version);
        }
    }

    /// <inheritdoc />
    public async Task RemoveAsync(string key, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ThrowIfDisposed();
        token.ThrowIfCancellationRequested();
        var version = RemoveFromPool(key);
        if (_tier is not null)
        {
            await FenceNowAsync(key, version).ConfigureAwait(false);
        }
    }

    // ---- IBufferDistributedCache ----

    /// <inheritdoc />
    public bool TryGet(string key, IBufferWriter<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(destination);
        ThrowIfDisposed();
        var sink = new WriterSink(destination);
        var outcome = ReadFromPool(key, ref sink);
        if (outcome == ReadOutcome.Hit)
        {
            return true;
        }

        if (outcome == ReadOutcome.NotResident && _tier is not null)
        {
            var (fetch, slot) = FetchShared(key);
            return CopyFaultIn(fetch.GetAwaiter().GetResult(), slot, destination);
        }

        RecordMiss();
        return false;
    }

    /// <inheritdoc />
    public async ValueTask<bool> TryGetAsync(string key, IBufferWriter<byte> destination, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(destination);
        ThrowIfDisposed();
        token.ThrowIfCancellationRequested();
        var outcome = ReadFromPool(key, destination);
        if (outcome == ReadOutcome.Hit)
        {
            return true;
        }

        if (outcome == ReadOutcome.NotResident && _tier is not null)
        {
            var (fetch, slot) = FetchShared(key);
            return CopyFaultIn(await fetch.WaitAsync(token).ConfigureAwait(false), slot, destination);
        }

        RecordMiss();
        return false;
    }

    /// <inheritdoc />
    public void Set(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(options);
        SetCore(key, value, options).GetAwaiter().GetResult();
    }

    /// <inheritdoc />
    public ValueTask SetAsync(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(options);
        token.ThrowIfCancellationRequested();
        return SetCore(key, value, options);
    }

    /// <summary>Stops the background work and releases the pool's memory.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        StopBackgroundWork();
        _metrics.Dispose();
        _pool.Dispose();
    }

    // ---- the shared read path ----

    private enum ReadOutcome
    {
        Hit,
        Miss,
        NotResident,
    }

    private ReadOutcome ReadFromPool(string key, IBufferWriter<byte> destination)
    {
        var sink = new WriterSink(destination);
        return ReadFromPool(key, ref sink);
    }

    private ReadOutcome ReadFromPool<TSink>(string key, ref TSink sink)
        where TSink : struct, IValueSink
    {
        byte[]? rented = null;
        var keyBytes = EncodeKey(key, stackalloc byte[StackKeyBytes], ref rented);
        var hash = Hash(keyBytes);
        var shard = ShardFor(hash);
        try
        {
            // Read only for an entry that can expire: an entry without a deadline never needs
            // the clock, and a clock read costs about as much as the rest of the lookup.
            long now = 0;
            lock (shard.Lock)
            {
                for (var slot = shard.First(hash); slot >= 0; slot = shard[slot].Next)
                {
                    ref var entry = ref shard[slot];
                    if (entry.HashCode != hash)
                    {
                        continue;
                    }

                    if (now == 0 && (entry.DeadlineTicks != long.MaxValue || entry.SlidingTicks != 0))
                    {
                        now = _time.GetUtcNow().UtcTicks;
                    }

                    var expired = now >= entry.DeadlineTicks;
                    var destination = expired ? [] : sink.GetSpan(entry.OriginalLength);
                    DecodeResult result;
                    var obj = _pool.EnterRead(entry.Handle, out var page);
                    try
                    {
                        result = DecodeFromPool(obj, new DecodeState(keyBytes, destination, entry.Codec, expired));
                    }
                    finally
                    {
                        ZsPool.ExitRead(page);
                    }

                    if (result == DecodeResult.OtherKey)
                    {
                        continue;
                    }

                    if (expired)
                    {
                        FreeEntry(shard, slot);
                        shard.Touch();
                        _metrics.Evicted(EvictionReason.Expired);
                        RecordMiss();
                        return ReadOutcome.Miss;
                    }

                    if (result != DecodeResult.Decoded)
                    {
                        throw new ZsPoolException($"The pool object of an entry did not decode to its {entry.OriginalLength} bytes; the pool is corrupt.");
                    }

                    sink.Commit(entry.OriginalLength);
                    if (entry.SlidingTicks != 0)
                    {
                        entry.DeadlineTicks = Math.Min(entry.AbsoluteTicks, SlideFrom(now, entry.SlidingTicks));
                    }

                    entry.Flags |= EntryFlags.Referenced;
                    Interlocked.Increment(ref _hitsPool);
                    _metrics.Hit(fromPool: true);
                    return ReadOutcome.Hit;
                }
            }

            return ReadOutcome.NotResident;
        }
        finally
        {
            ReturnKey(rented);
        }
    }

    private enum DecodeResult
    {
        Decoded,
        OtherKey,
        KeyOnly,
        Corrupt,
    }

    private readonly ref struct DecodeState(ReadOnlySpan<byte> key, Span<byte> destination, ZsCodec codec, bool keyOnly)
    {
        public readonly ReadOnlySpan<byte> Key = key;
        public readonly Span<byte> Destination = destination;
        public readonly ZsCodec Codec = codec;
        public readonly bool KeyOnly = keyOnly;
    }

    private static DecodeResult DecodeFromPool(ReadOnlySpan<byte> obj, DecodeState state)
    {
        if (!ObjectLayout.Key(obj).SequenceEqual(state.Key))
        {
            return DecodeResult.OtherKey;
        }

        if (state.KeyOnly)
        {
            return DecodeResult.KeyOnly;
        }

        return ValueCodec.TryDecode(state.Codec, ObjectLayout.Data(obj), state.Destination) ? DecodeResult.Decoded : DecodeResult.Corrupt;
    }

    /// <summary>The slot of <paramref name="keyBytes"/> in <paramref name="shard"/>, or -1. Shard lock held.</summary>
    private int FindSlot(IndexShard shard, int hash, ReadOnlySpan<byte> keyBytes)
    {
        for (var slot = shard.First(hash); slot >= 0; slot = shard[slot].Next)
        {
            if (shard[slot].HashCode == hash
                && _pool.Read(shard[slot].Handle, new DecodeState(keyBytes, default, default, keyOnly: true), DecodeFromPool) == DecodeResult.KeyOnly)
            {
                return slot;
            }
        }

        return -1;
    }

    /// <summary>Unlinks the entry and frees its object. Shard lock held.</summary>
    private void FreeEntry(IndexShard shard, int slot)
    {
        var entry = shard.RemoveAt(slot);
        _pool.Free(entry.Handle);
        Interlocked.Decrement(ref _entries);
        Interlocked.Add(ref _storedCompressed, -entry.DataLength);
        Interlocked.Add(ref _storedOriginal, -entry.OriginalLength);
    }

    private bool RefreshInPool(string key)
    {
        byte[]? rented = null;
        var keyBytes = EncodeKey(key, stackalloc byte[StackKeyBytes], ref rented);
        var hash = Hash(keyBytes);
        var shard = ShardFor(hash);
        try
        {
            var now = _time.GetUtcNow().UtcTicks;
            lock (shard.Lock)
            {
                var slot = FindSlot(shard, hash, keyBytes);
                if (slot < 0)
                {
                    return false;
                }

                ref var entry = ref shard[slot];
                if (now >= entry.DeadlineTicks)
                {
                    FreeEntry(shard, slot);
                    shard.Touch();
                    _metrics.Evicted(EvictionReason.Expired);
                    return true;
                }

                if (entry.SlidingTicks != 0)
                {
                    entry.DeadlineTicks = Math.Min(entry.AbsoluteTicks, SlideFrom(now, entry.SlidingTicks));
                }

                entry.Flags |= EntryFlags.Referenced;
                return true;
            }
        }
        finally
        {
            ReturnKey(rented);
        }
    }

    /// <summary>Removes the key from the pool; returns the version of the removal (for the tier's fence).</summary>
    private long RemoveFromPool(string key)
    {
        byte[]? rented = null;
        var keyBytes = EncodeKey(key, stackalloc byte[StackKeyBytes], ref rented);
        var hash = Hash(keyBytes);
        var shard = ShardFor(hash);
        try
        {
            lock (shard.Lock)
            {
                var slot = FindSlot(shard, hash, keyBytes);
                if (slot >= 0)
                {
                    FreeEntry(shard, slot);
                }

                shard.Touch();

                // A read that starts after this remove must not join a fetch that began before it.
                ForgetFetch(key);
                return _clock.Next();
            }
        }
        finally
        {
            ReturnKey(rented);
        }
    }

    // ---- the write path ----

    private ValueTask SetCore(string key, byte[] value, DistributedCacheEntryOptions options)
        => SetCore(key, new ReadOnlySequence<byte>(value), options);

    private async ValueTask SetCore(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options)
    {
        ThrowIfDisposed();
        if (value.Length > _options.MaxValueBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value.Length, $"The value is larger than {nameof(ZsCacheOptions.MaxValueBytes)} ({_options.MaxValueBytes} bytes).");
        }

        var now = _time.GetUtcNow();
        var (absoluteTicks, slidingTicks) = ResolveExpiration(options, now);
        var keyLength = Encoding.UTF8.GetByteCount(key);
        if (keyLength > ObjectLayout.MaxKeyBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(key), keyLength, $"The key is longer than {ObjectLayout.MaxKeyBytes} UTF-8 bytes.");
        }

        var length = (int)value.Length;
        var dataOffset = ObjectLayout.HeaderSize + keyLength;
        var buffer = ArrayPool<byte>.Shared.Rent(dataOffset + ValueCodec.MaxEncodedLength(length));
        byte[]? flat = null;
        try
        {
            ReadOnlySpan<byte> source;
            if (value.IsSingleSegment)
            {
                source = value.FirstSpan;
            }
            else
            {
                // LZ4's block codec needs its input in one piece.
                flat = ArrayPool<byte>.Shared.Rent(length);
                value.CopyTo(flat);
                source = flat.AsSpan(0, length);
            }

            var (codec, dataLength) = ValueCodec.Encode(source, buffer.AsSpan(dataOffset), _options.Compression);
            Encoding.UTF8.GetBytes(key, buffer.AsSpan(ObjectLayout.HeaderSize, keyLength));
            var hash = Hash(buffer.AsSpan(ObjectLayout.HeaderSize, keyLength));
            ObjectLayout.WriteHeader(buffer, hash, keyLength);
            var objectLength = dataOffset + dataLength;
            var deadline = slidingTicks == 0 ? absoluteTicks : Math.Min(absoluteTicks, SlideFrom(now.UtcTicks, slidingTicks));

            var stored = new IndexEntry
            {
                HashCode = hash,
                AbsoluteTicks = absoluteTicks,
                SlidingTicks = slidingTicks,
                DeadlineTicks = deadline,
                OriginalLength = length,
                DataLength = dataLength,
                Codec = codec,
                Flags = EntryFlags.Referenced,
            };
            if (objectLength <= _pool.MaxObjectBytes && (_pool.TryMalloc(objectLength, out var handle) || TryMallocAfterDirectReclaim(key, objectLength, out handle)))
            {
                StoreInPool(key, buffer.AsSpan(0, objectLength), handle, stored);
                return;
            }

            // The pool cannot take it (full and nothing to reclaim in time, or too large for it):
            // what was stored for the key before is superseded all the same.
            var bypassVersion = RemoveFromPool(key);
            SignalShrinker();
            if (_tier is null)
            {
                _metrics.Evicted(EvictionReason.Capacity);
                return;
            }

            RequestFence(key, bypassVersion);
            if (!_tier.AcceptsWrites)
            {
                // Known to refuse writes: no round trip to learn it again.
                _metrics.Evicted(EvictionReason.Capacity);
                NoteBypassDropped();
                return;
            }

            var item = new ZsWritebackItem
            {
                Key = key,
                Version = bypassVersion,
                Codec = codec,
                OriginalLength = length,
                Data = buffer.AsSpan(dataOffset, dataLength).ToArray(),
                AbsoluteExpiration = absoluteTicks == long.MaxValue ? null : new DateTimeOffset(absoluteTicks, TimeSpan.Zero),
                SlidingExpiration = slidingTicks == 0 ? null : TimeSpan.FromTicks(slidingTicks),
                TimeToLive = TimeToLive(deadline, now.UtcTicks),
            };

            // Awaited on the sync path too: a Set that returned must be readable, wherever it went.
            if (await WriteBypassAsync(item).ConfigureAwait(false))
            {
                return;
            }

            // The tier refused it (down, full, timing out). If one value of its size class can
            // make room, the newest value outranks a cold one; a whole zspage of them it does
            // not. Still this Set's own: it has not returned, so publishing now orders it after
            // anything that completed meanwhile.
            if (objectLength <= _pool.MaxObjectBytes && (_pool.TryMalloc(objectLength, out handle) || TryMallocByEvictingInClass(objectLength, out handle)))
            {
                StoreInPool(key, buffer.AsSpan(0, objectLength), handle, stored);
                return;
            }

            _metrics.Evicted(EvictionReason.Capacity);
            NoteBypassDropped();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            if (flat is not null)
            {
                ArrayPool<byte>.Shared.Return(flat);
            }
        }
    }

    /// <summary>Writes an encoded object into its allocated handle and publishes it, then tells the tier.</summary>
    private void StoreInPool(string key, ReadOnlySpan<byte> obj, ZsHandle handle, IndexEntry entry)
    {
        _pool.Write(handle, 0, obj);
        entry.Handle = handle;
        var version = Publish(entry.HashCode, ObjectLayout.Key(obj), entry);
        ForgetFetch(key);
        if (_pool.TotalBytes > _highWatermark)
        {
            SignalShrinker();
        }

        if (_tier is not null)
        {
            RequestFence(key, version);
        }
    }

    /// <summary>Publishes a stored object in the index, freeing what the key held before. Returns its version.</summary>
    private long Publish(int hash, ReadOnlySpan<byte> keyBytes, IndexEntry entry)
    {
        var shard = ShardFor(hash);
        lock (shard.Lock)
        {
            var slot = FindSlot(shard, hash, keyBytes);
            if (slot >= 0)
            {
                FreeEntry(shard, slot);
            }

            // Taken under the lock, so two Sets of one key are published in version order.
            entry.Version = _clock.Next();
            shard.Add(entry);
            shard.Touch();
            Interlocked.Increment(ref _entries);
            Interlocked.Add(ref _storedCompressed, entry.DataLength);
            Interlocked.Add(ref _storedOriginal, entry.OriginalLength);
            return entry.Version;
        }
    }

    /// <summary><paramref name="now"/> plus a sliding window, saturating: a window of <see cref="TimeSpan.MaxValue"/> means "until the absolute expiration".</summary>
    private static long SlideFrom(long now, long slidingTicks) => slidingTicks > long.MaxValue - now ? long.MaxValue : now + slidingTicks;

    private (long AbsoluteTicks, long SlidingTicks) ResolveExpiration(DistributedCacheEntryOptions options, DateTimeOffset now)
    {
        var absolute = long.MaxValue;
        if (options.AbsoluteExpirationRelativeToNow is { } relative)
        {
            if (relative <= TimeSpan.Zero)
            {
                throw new ArgumentOutOfRangeException(nameof(DistributedCacheEntryOptions.AbsoluteExpirationRelativeToNow), relative, "The relative expiration value must be positive.");
            }

            absolute = (now + relative).UtcTicks;
        }
        else if (options.AbsoluteExpiration is { } at)
        {
            if (at <= now)
            {
                throw new ArgumentOutOfRangeException(nameof(DistributedCacheEntryOptions.AbsoluteExpiration), at, "The absolute expiration value must be in the future.");
            }

            absolute = at.UtcTicks;
        }

        var sliding = 0L;
        if (options.SlidingExpiration is { } window)
        {
            if (window <= TimeSpan.Zero)
            {
                throw new ArgumentOutOfRangeException(nameof(DistributedCacheEntryOptions.SlidingExpiration), window, "The sliding expiration value must be positive.");
            }

            sliding = window.Ticks;
        }

        return (absolute, sliding);
    }

    private static TimeSpan TimeToLive(long deadlineTicks, long nowTicks)
        => deadlineTicks == long.MaxValue ? TimeSpan.MaxValue : TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerMillisecond, deadlineTicks - nowTicks));

    // ---- helpers ----

    /// <summary>
    /// Hashes the key's UTF-8 bytes, not its UTF-16 string: keys that encode alike (lone
    /// surrogates become U+FFFD) are one key in the pool, as they are in the writeback tier.
    /// </summary>
    private static int Hash(ReadOnlySpan<byte> keyBytes)
    {
        var hash = default(HashCode);
        hash.AddBytes(keyBytes);
        return hash.ToHashCode();
    }

    private IndexShard ShardFor(int hash) => _shards[(uint)hash >> (32 - ShardBits)];

    private static ReadOnlySpan<byte> EncodeKey(string key, Span<byte> stack, ref byte[]? rented)
    {
        var max = Encoding.UTF8.GetMaxByteCount(key.Length);
        var target = stack;
        if (max > stack.Length)
        {
            var exact = Encoding.UTF8.GetByteCount(key);
            if (exact > stack.Length)
            {
                rented = ArrayPool<byte>.Shared.Rent(exact);
                target = rented;
            }
        }

        var written = Encoding.UTF8.GetBytes(key, target);
        return target[..written];
    }

    private static void ReturnKey(byte[]? rented)
    {
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private void RecordMiss()
    {
        Interlocked.Increment(ref _misses);
        _metrics.Missed();
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
}
