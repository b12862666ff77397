using System.Buffers;
using System.Collections.Concurrent;
using System.Numerics;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using ZsCache.Cache;
using ZsCache.Compression;
using ZsCache.Internal;
using ZsCache.Telemetry;
using ZsCache.Writeback;

namespace ZsCache;

/// <content>
/// The writeback tier's side of the cache: fault-in, fences and stores that bypass a full pool.
/// </content>
/// <remarks>
/// Why a Remove or a newer Set is never undone (invariant 3 of <c>DESIGN.md</c>):
/// <list type="number">
/// <item><description>Every Set and Remove takes a new version under its shard lock and asks the tier
/// for a fence of that version (<see cref="IZsWritebackTier.FenceAsync"/>): the tier then refuses
/// every older store, including writebacks already in flight, and drops the older copy.</description></item>
/// <item><description>Until the tier confirms, the key is fenced locally (<c>_pendingFences</c>): a
/// fault-in that reads a version older than the local fence reads as a miss.</description></item>
/// <item><description>A fault-in admits what it read back into the pool only if no Set or Remove
/// touched the key's shard while it was reading (<see cref="IndexShard.MutationStamp"/>).</description></item>
/// <item><description>Reclaim frees an object only if the index still holds that very handle and
/// version when the tier answers.</description></item>
/// </list>
/// </remarks>
public sealed partial class ZsDistributedCache
{
    /// <summary>
    /// Beyond this many unconfirmed fences (a long outage, or Redis refusing writes, with many
    /// writes), they are folded into <see cref="_foldedFences"/>: memory stays bounded, and only
    /// reads of written-back values whose key hash shares a slot with a folded fence miss.
    /// </summary>
    internal const int DefaultMaxPendingFences = 100_000;

    /// <summary>The fold threshold; settable so tests can reach it with few keys.</summary>
    internal int MaxPendingFences { get; set; } = DefaultMaxPendingFences;

    /// <summary>
    /// Folded fences: the highest fenced version per key-hash slot (eight slots per fence the fold
    /// threshold allows, allocated at the first fold). A fetched value older than its slot's
    /// version reads as a miss: a key that shares a slot with a fenced one costs a miss, never a
    /// stale read. One global floor did the same at the price of every written-back value.
    /// The fences themselves are given up (Redis keeps the older copies until they expire), so
    /// the slots are never cleared.
    /// </summary>
    private long[]? _foldedFences;

    /// <summary>Fences sent together: one pipelined burst, small enough not to hog the connection.</summary>
    private const int FenceBatch = 256;

    /// <summary>Objects faulted in within this long after their writeback count as refaults.</summary>
    private static readonly TimeSpan RefaultWindow = TimeSpan.FromMinutes(5);

    private readonly ConcurrentDictionary<string, long> _pendingFences = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, FetchSlot> _faultIns = new(StringComparer.Ordinal);
    private readonly Channel<string> _fenceQueue = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>
    /// Shadow entries, as the kernel's workingset code keeps for evicted pages: the key hash and
    /// the time of each recent writeback, in a small direct-mapped table, so a fault-in can tell
    /// whether it undoes a recent writeback.
    /// </summary>
    private readonly long[] _shadows = new long[1 << 16];

    /// <summary>A value fetched from the tier, decoded once and checked; shared by concurrent readers.</summary>
    private sealed record FaultIn(byte[] Value);

    /// <summary>
    /// One fetch from the tier and the readers sharing it. The decoded value goes to the caller
    /// of a Get as it is when no other reader can still be copying it (a lone reader, the usual
    /// case: no second copy of up to <see cref="ZsCacheOptions.MaxValueBytes"/>); otherwise each
    /// reader takes a copy, since a caller may change the array it is given.
    /// </summary>
    private sealed class FetchSlot
    {
        public Lazy<Task<FaultIn?>>? Lazy;

        /// <summary>Readers that joined; -1 once closed (the fetch has left <see cref="_faultIns"/> and is completing).</summary>
        private int _joined;

        /// <summary>Joined readers that have not finished with the value; set when closed.</summary>
        private int _remaining;

        /// <summary>False when the fetch closed before this reader could join: it must start its own.</summary>
        public bool TryJoin()
        {
            var joined = Volatile.Read(ref _joined);
            while (joined >= 0)
            {
                var seen = Interlocked.CompareExchange(ref _joined, joined + 1, joined);
                if (seen == joined)
                {
                    return true;
                }

                joined = seen;
            }

            return false;
        }

        /// <summary>Called by the fetch before it completes: no reader joins after this.</summary>
        public void Close() => Volatile.Write(ref _remaining, Interlocked.Exchange(ref _joined, -1));

        /// <summary>The value for a Get: the original when every other reader is done with it, else a copy.</summary>
        public byte[] Take(byte[] value)
        {
            if (Interlocked.CompareExchange(ref _remaining, 0, 1) == 1)
            {
                return value;
            }

            var copy = value.ToArray();
            Interlocked.Decrement(ref _remaining);
            return copy;
        }

        /// <summary>A reader that only copied the value out (TryGet) is done with it.</summary>
        public void Leave() => Interlocked.Decrement(ref _remaining);
    }

    /// <summary>Joins the fetch of <paramref name="key"/> in flight, or starts one.</summary>
    private (Task<FaultIn?> Task, FetchSlot Slot) FetchShared(string key)
    {
        // A fetch takes itself out of _faultIns before its task completes (FetchAndAdmitAsync's
        // finally), so a read that begins after another read returned never joins the fetch
        // that answered it, however the continuations of that answer are scheduled. A reader
        // that found the slot just before that joins too late and starts a fetch of its own.
        while (true)
        {
            var slot = _faultIns.GetOrAdd(
                key,
                static (k, self) =>
                {
                    var slot = new FetchSlot();
                    slot.Lazy = new Lazy<Task<FaultIn?>>(() => self.FetchAndAdmitAsync(k, slot));
                    return slot;
                },
                this);

            // Joined before the first touch of Lazy.Value: a fetch may complete synchronously.
            if (slot.TryJoin())
            {
                return (slot.Lazy!.Value, slot);
            }
        }
    }

    /// <summary>Detaches an in-flight fetch of <paramref name="key"/> so later readers start their own.</summary>
    private void ForgetFetch(string key)
    {
        if (!_faultIns.IsEmpty)
        {
            _faultIns.TryRemove(key, out _);
        }
    }

    private byte[]? CompleteFaultIn(FaultIn? fetched)
    {
        if (fetched is null)
        {
            RecordMiss();
            return null;
        }

        Interlocked.Increment(ref _hitsWriteback);
        _metrics.Hit(fromPool: false);
        return fetched.Value;
    }

    private byte[]? TakeFaultIn(FaultIn? fetched, FetchSlot slot) => CompleteFaultIn(fetched) is { } value ? slot.Take(value) : null;

    private bool CopyFaultIn(FaultIn? fetched, FetchSlot slot, IBufferWriter<byte> destination)
    {
        var value = CompleteFaultIn(fetched);
        if (value is null)
        {
            return false;
        }

        try
        {
            destination.Write(value);
        }
        finally
        {
            slot.Leave();
        }

        return true;
    }

    private async Task<FaultIn?> FetchAndAdmitAsync(string key, FetchSlot slot)
    {
        // No Task.Yield: the fetch runs on the caller's thread up to its network wait, so a
        // synchronous Get blocks on the reply alone, not on a thread-pool hop as well (about
        // 20 us a fault-in, and a starvation risk under load).
        try
        {
            var hash = Hash(Encoding.UTF8.GetBytes(key));
            var shard = ShardFor(hash);
            long stamp;
            lock (shard.Lock)
            {
                stamp = shard.MutationStamp;
            }

            // Taken before the read: a fence confirmed while the reply is on its way leaves no
            // trace in _pendingFences afterwards, yet the reply may predate it.
            var foldedBefore = FoldedFence(hash);
            var fenceBefore = _pendingFences.TryGetValue(key, out var f) ? f : 0;
            var now = _time.GetUtcNow();
            var value = await _tier!.ReadAsync(key, now, CancellationToken.None).ConfigureAwait(false);
            if (value is null)
            {
                return null;
            }

            if (value.Version < Math.Max(foldedBefore, FoldedFence(hash))
                || value.Version < fenceBefore
                || (_pendingFences.TryGetValue(key, out var fence) && value.Version < fence))
            {
                // Written before a Remove or Set the tier has not confirmed yet: stale.
                return null;
            }

            if (value.AbsoluteExpiration is { } absolute && absolute <= now)
            {
                return null;
            }

            if (value.DictionaryId != 0 || value.OriginalLength < 0 || value.OriginalLength > _options.MaxValueBytes
                || value.Data.Length > ValueCodec.MaxEncodedLength(value.OriginalLength))
            {
                Log.FaultInRejected(_logger, (int)value.Codec, value.DictionaryId, value.OriginalLength);
                return null;
            }

            var decoded = value.OriginalLength == 0 ? [] : new byte[value.OriginalLength];
            if (!ValueCodec.TryDecode(value.Codec, value.Data.Span, decoded))
            {
                Log.FaultInRejected(_logger, (int)value.Codec, value.DictionaryId, value.OriginalLength);
                return null;
            }

            NoteRefault(hash, now);
            Admit(key, hash, shard, stamp, value, now);
            return new FaultIn(decoded);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The tier promises not to throw for its own faults; anything else must not reach the caller either.
            Log.FaultInFailed(_logger, ex);
            return null;
        }
        finally
        {
            _faultIns.TryRemove(new KeyValuePair<string, FetchSlot>(key, slot));
            slot.Close();
        }
    }

    /// <summary>Brings a faulted-in value back into the pool as a clean entry, when there is room and nothing changed meanwhile.</summary>
    private void Admit(string key, int hash, IndexShard shard, long stamp, ZsWritebackValue value, DateTimeOffset now)
    {
        if (!_tier!.AcceptsWrites)
        {
            // The tier keeps this value; room taken for a copy of it now would be paid for by
            // dropping values that exist nowhere else, since nothing can be written back.
            return;
        }

        var keyLength = Encoding.UTF8.GetByteCount(key);
        var objectLength = ObjectLayout.HeaderSize + keyLength + value.Data.Length;
        if (keyLength > ObjectLayout.MaxKeyBytes || objectLength > _pool.MaxObjectBytes)
        {
            return;
        }

        if (_pool.TotalBytes + objectLength > _highWatermark)
        {
            // Not admitted now, but the read says this entry is wanted: let the shrinker make room
            // from colder ones. Otherwise a read-mostly load, whose Sets rarely wake it, never
            // takes its refaulted hot entries back.
            SignalShrinker();
            return;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(objectLength);
        try
        {
            ObjectLayout.WriteHeader(buffer, hash, keyLength);
            Encoding.UTF8.GetBytes(key, buffer.AsSpan(ObjectLayout.HeaderSize, keyLength));
            value.Data.Span.CopyTo(buffer.AsSpan(ObjectLayout.HeaderSize + keyLength));
            if (!_pool.TryMalloc(objectLength, out var handle))
            {
                return;
            }

            _pool.Write(handle, 0, buffer.AsSpan(0, objectLength));
            var absoluteTicks = value.AbsoluteExpiration?.UtcTicks ?? long.MaxValue;
            var slidingTicks = value.SlidingExpiration?.Ticks ?? 0;
            lock (shard.Lock)
            {
                if (shard.MutationStamp != stamp || FindSlot(shard, hash, buffer.AsSpan(ObjectLayout.HeaderSize, keyLength)) >= 0)
                {
                    _pool.Free(handle);
                    return;
                }

                shard.Add(new IndexEntry
                {
                    HashCode = hash,
                    Handle = handle,
                    Version = value.Version,
                    AbsoluteTicks = absoluteTicks,
                    SlidingTicks = slidingTicks,
                    DeadlineTicks = slidingTicks == 0 ? absoluteTicks : Math.Min(absoluteTicks, SlideFrom(now.UtcTicks, slidingTicks)),
                    OriginalLength = value.OriginalLength,
                    DataLength = value.Data.Length,
                    Codec = value.Codec,
                    Flags = EntryFlags.Clean | EntryFlags.Referenced,
                });
                Interlocked.Increment(ref _entries);
                Interlocked.Add(ref _storedCompressed, value.Data.Length);
                Interlocked.Add(ref _storedOriginal, value.OriginalLength);
                Interlocked.Decrement(ref _writtenBack);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void RecordShadow(int hash, long nowTicks)
    {
        var seconds = (uint)(nowTicks / TimeSpan.TicksPerSecond);
        Volatile.Write(ref _shadows[hash & (_shadows.Length - 1)], ((long)hash << 32) | seconds);
    }

    private void NoteRefault(int hash, DateTimeOffset now)
    {
        var shadow = Volatile.Read(ref _shadows[hash & (_shadows.Length - 1)]);
        if ((int)(shadow >> 32) != hash || shadow == 0)
        {
            return;
        }

        var seconds = (uint)(now.UtcTicks / TimeSpan.TicksPerSecond);
        if (seconds - (uint)shadow <= RefaultWindow.TotalSeconds)
        {
            _metrics.Refaulted();
            Interlocked.Increment(ref _refaults);
            Interlocked.Increment(ref _recentRefaults);
        }
    }

    private long _refaults;

    // ---- fences ----

    private bool IsFenced(string key) => _pendingFences.ContainsKey(key);

    /// <summary>Fences <paramref name="key"/> locally at once and asks the tier to follow in the background.</summary>
    private void RequestFence(string key, long version)
    {
        AddPendingFence(key, version);

        _fenceQueue.Writer.TryWrite(key);
    }

    /// <summary>Fences now and waits for the tier (RemoveAsync); on failure the background retries.</summary>
    private async Task FenceNowAsync(string key, long version)
    {
        AddPendingFence(key, version);
        if (!await SendFenceAsync(key).ConfigureAwait(false))
        {
            _fenceQueue.Writer.TryWrite(key);
        }
    }

    /// <summary>
    /// Raises the key's pending fence to <paramref name="version"/>, folding when there are too
    /// many. Counted by hand: <see cref="ConcurrentDictionary{TKey,TValue}.Count"/> takes every
    /// lock of the dictionary, and this runs on every Set.
    /// </summary>
    private void AddPendingFence(string key, long version)
    {
        while (true)
        {
            if (_pendingFences.TryAdd(key, version))
            {
                if (Interlocked.Increment(ref _pendingFenceCount) > MaxPendingFences)
                {
                    FoldFences();
                }

                return;
            }

            if (_pendingFences.TryGetValue(key, out var old) && (old >= version || _pendingFences.TryUpdate(key, version, old)))
            {
                return;
            }
        }
    }

    private void RemovePendingFence(KeyValuePair<string, long> pair)
    {
        if (_pendingFences.TryRemove(pair))
        {
            Interlocked.Decrement(ref _pendingFenceCount);
        }
    }

    private int _pendingFenceCount;

    private void FoldFences()
    {
        var table = Volatile.Read(ref _foldedFences);
        if (table is null)
        {
            var slots = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Clamp(MaxPendingFences * 8L, 1024, 1 << 24));
            Interlocked.CompareExchange(ref _foldedFences, new long[slots], null);
            table = _foldedFences!;
        }

        var count = 0;
        foreach (var pair in _pendingFences)
        {
            // Into the table before out of the dictionary, so a concurrent fetch sees one or the
            // other; and out only if unchanged, so a newer fence of the key raced in stays pending.
            InterlockedMax(ref table[Hash(Encoding.UTF8.GetBytes(pair.Key)) & (table.Length - 1)], pair.Value);
            if (_pendingFences.TryRemove(pair))
            {
                Interlocked.Decrement(ref _pendingFenceCount);
                count++;
            }
        }

        Log.FencesFolded(_logger, count);
    }

    /// <summary>The folded fence version of a key hash's slot; 0 before any fold.</summary>
    private long FoldedFence(int hash) =>
        Volatile.Read(ref _foldedFences) is { } table ? Volatile.Read(ref table[hash & (table.Length - 1)]) : 0;

    private async Task<bool> SendFenceAsync(string key)
    {
        if (!_pendingFences.TryGetValue(key, out var version))
        {
            return true;
        }

        try
        {
            if (await _tier!.FenceAsync(key, version, _stopping.Token).ConfigureAwait(false))
            {
                RemovePendingFence(new KeyValuePair<string, long>(key, version));
                return true;
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.FenceFailed(_logger, ex);
        }

        return false;
    }

    private async Task FenceLoopAsync()
    {
        var reader = _fenceQueue.Reader;
        var batch = new List<string>(FenceBatch);
        var sends = new List<Task<bool>>(FenceBatch);
        var backoff = TimeSpan.Zero;
        var token = _stopping.Token;
        try
        {
            while (await reader.WaitToReadAsync(token).ConfigureAwait(false))
            {
                batch.Clear();
                sends.Clear();
                while (batch.Count < FenceBatch && reader.TryRead(out var key))
                {
                    if (_pendingFences.ContainsKey(key) && !batch.Contains(key))
                    {
                        batch.Add(key);
                    }
                }

                foreach (var key in batch)
                {
                    sends.Add(SendFenceAsync(key));
                }

                await Task.WhenAll(sends).ConfigureAwait(false);
                var failed = false;
                for (var i = 0; i < batch.Count; i++)
                {
                    if (!sends[i].Result)
                    {
                        failed = true;
                        _fenceQueue.Writer.TryWrite(batch[i]);
                    }
                }

                if (failed)
                {
                    // The tier is struggling: back off (real time, not the cache's clock, which
                    // tests may freeze) before trying the failed fences again.
                    backoff = backoff == TimeSpan.Zero ? TimeSpan.FromMilliseconds(100) : TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
                    await Task.Delay(backoff, token).ConfigureAwait(false);
                }
                else
                {
                    backoff = TimeSpan.Zero;
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
    }

    private long _invalidated;

    /// <summary>
    /// Another instance sharing the tier fenced <paramref name="key"/> at <paramref name="version"/>
    /// (a Set or Remove there): an older copy in this pool (or one of the same version) is stale, so
    /// it goes, as a local Remove would take it, but without a fence of our own (the tier already
    /// holds one). A newer copy (a later Set here) stays.
    /// </summary>
    /// <remarks>
    /// The shard is touched and the key's fetch forgotten even when nothing is resident: a
    /// fault-in already on its way may carry the older value, and must neither be admitted nor
    /// joined by a read that begins after this.
    /// </remarks>
    private void ApplyFenceFromElsewhere(string key, long version)
    {
        if (Volatile.Read(ref _disposed) != 0 || Encoding.UTF8.GetByteCount(key) > ObjectLayout.MaxKeyBytes)
        {
            return;
        }

        byte[]? rented = null;
        var keyBytes = EncodeKey(key, stackalloc byte[StackKeyBytes], ref rented);
        var hash = Hash(keyBytes);
        var shard = ShardFor(hash);
        var dropped = false;
        try
        {
            lock (shard.Lock)
            {
                var slot = FindSlot(shard, hash, keyBytes);
                // Equal versions too: two instances can issue the same version for Sets within
                // the same millisecond, and the value that survives must be one both agree on
                // (none, in the pools; a refault at worst).
                if (slot >= 0 && shard[slot].Version <= version)
                {
                    // Counted before the entry count falls: whoever sees the entry gone sees it counted.
                    Interlocked.Increment(ref _invalidated);
                    FreeEntry(shard, slot);
                    dropped = true;
                }

                shard.Touch();
                ForgetFetch(key);
            }
        }
        finally
        {
            ReturnKey(rented);
        }

        if (dropped)
        {
            _metrics.Invalidated();
        }
    }

    // ---- stores that bypass the pool ----

    /// <summary>Hands a store the pool could not take to the tier; true when the tier has it (or a newer version).</summary>
    private async Task<bool> WriteBypassAsync(ZsWritebackItem item)
    {
        try
        {
            await _tier!.WriteAsync([item], _stopping.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.BypassFailed(_logger, ex);
            item.Outcome = ZsWritebackOutcome.Failed;
        }

        switch (item.Outcome)
        {
            case ZsWritebackOutcome.Written:
                Interlocked.Increment(ref _writtenBack);
                _metrics.WritebackOk(1, item.Data.Length);
                return true;
            case ZsWritebackOutcome.Superseded:
                return true;
            default:
                _metrics.WritebackFailed(1);
                return false;
        }
    }

    /// <summary>Dropped stores are reported every 10 s at most: during a refusal or an outage every store that needs room can be one.</summary>
    private readonly ReportThrottle _bypassDropped = new(TimeSpan.FromSeconds(10));

    /// <summary>Counts a store that was not cached (the metric already has it) and logs the count now and then, not once per store.</summary>
    private void NoteBypassDropped()
    {
        if (_bypassDropped.Note() is var count and > 0)
        {
            Log.BypassDropped(_logger, count, _bypassDropped.Interval);
        }
    }

    private static void InterlockedMax(ref long target, long value)
    {
        var current = Volatile.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
