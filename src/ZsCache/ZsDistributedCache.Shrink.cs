using System.Buffers;
using System.Text;
using Microsoft.Extensions.Logging;
using ZsCache.Cache;
using ZsCache.Pool;
using ZsCache.Telemetry;
using ZsCache.Writeback;

namespace ZsCache;

/// <content>
/// The shrinker: the background worker that keeps the pool between its watermarks, and the
/// periodic expiration scan.
/// </content>
/// <remarks>
/// One reclaim step (<see cref="ReclaimOneAsync"/>), the port of <c>zs_reclaim_page</c> with the
/// evict callback split around the tier's I/O:
/// <list type="number">
/// <item><description>The pool takes its LRU tail zspage off its fullness list and marks it under
/// reclaim: no allocation or compaction touches it, and frees in it defer their handles.</description></item>
/// <item><description>For each live object, under its shard lock: expired entries are freed; under
/// <see cref="ZsWritebackPolicy.EntryClock"/> a referenced entry gets its second chance (bit
/// cleared, kept); with no tier, or the tier down, the entry is dropped; a clean entry (the tier
/// holds this very version) is freed without I/O; the rest are copied out and marked in flight.</description></item>
/// <item><description>The copies go to the tier as one batch.</description></item>
/// <item><description>For each answer, under the shard lock: if the index still holds that handle and
/// version, a stored object is freed, unless a read touched it during the writeback (the read
/// wins: it stays, now clean); a failed one stays, not made to look hot.</description></item>
/// <item><description>The pool frees the zspage if it is empty, or puts it back at the LRU front.</description></item>
/// </list>
/// </remarks>
public sealed partial class ZsDistributedCache
{
    /// <summary>How often the expiration scan walks the index (lazy expiry on access does the rest).</summary>
    private static readonly TimeSpan ScanInterval = TimeSpan.FromMinutes(1);

    /// <summary>Reclaim steps in a row that free nothing before a pass gives up until the next signal.</summary>
    private const int MaxFruitlessSteps = 8;

    /// <summary>
    /// Zspages an inline (request-thread) reclaim may drop before the store goes elsewhere. A
    /// reclaim frees one zspage of whatever class the LRU tail holds, often a one-page zspage
    /// of small objects while the store needs a fresh zspage of up to sixteen pages, so the
    /// bound is on zspages that freed nothing; the total is capped too.
    /// </summary>
    private const int MaxFruitlessInlineReclaims = 4;

    /// <summary>The most zspages one inline reclaim drops for one store.</summary>
    private const int MaxInlineReclaims = 2 * ZsSizeClassGeometry.MaxPagesPerZspage;

    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _shrinkSignal = new(0, 1);
    private readonly SemaphoreSlim _shrinkGate = new(1, 1);
    private bool _warnedRefusing;
    private Task? _shrinkLoop;
    private Task? _fenceLoop;
    private ITimer? _scanTimer;
    private bool _warnedDropping;

    private void StartBackgroundWork()
    {
        // First, since it may throw (a tier already serving another cache): no loop is left running then.
        _tier?.SubscribeToFences(ApplyFenceFromElsewhere);
        _shrinkLoop = Task.Run(ShrinkLoopAsync);
        if (_tier is not null)
        {
            _fenceLoop = Task.Run(FenceLoopAsync);
        }

        _scanTimer = _time.CreateTimer(static state => ((ZsDistributedCache)state!).ScanExpired(), this, ScanInterval, ScanInterval);
    }

    private void StopBackgroundWork()
    {
        _scanTimer?.Dispose();
        _stopping.Cancel();
        _fenceQueue.Writer.TryComplete();
        try
        {
            // Bounded: the loops only await cancellable operations.
            Task.WaitAll([_shrinkLoop ?? Task.CompletedTask, _fenceLoop ?? Task.CompletedTask], TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // Cancellation surfaced as a fault of a loop; they are done either way.
        }

        _stopping.Dispose();
    }

    private void SignalShrinker()
    {
        if (_shrinkSignal.CurrentCount == 0)
        {
            try
            {
                _shrinkSignal.Release();
            }
            catch (SemaphoreFullException)
            {
                // Another thread signalled first: the shrinker is awake either way.
            }
        }
    }

    private async Task ShrinkLoopAsync()
    {
        var token = _stopping.Token;
        try
        {
            while (true)
            {
                await _shrinkSignal.WaitAsync(token).ConfigureAwait(false);
                try
                {
                    await ShrinkAsync(token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    Log.ShrinkerFailed(_logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// One shrink pass: compact when fragmentation pays, then reclaim until the pool is below the
    /// low watermark. Public to tests through <c>InternalsVisibleTo</c>; the background worker
    /// calls it on every signal.
    /// </summary>
    internal async Task ShrinkAsync(CancellationToken cancellationToken = default)
    {
        await _shrinkGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var pagesFreed = 0;
            var written = 0;
            var dropped = 0;
            var moved = CompactIfWorthIt();
            var fruitless = 0;

            // Every zspage is visited at most twice per pass: enough for CLOCK to clear its bits
            // once and take the page on the second visit.
            var budget = (2 * _pool.TotalBytes / ZsPool.PageSize) + 16;
            var target = ShrinkTarget();
            if (_tier is not null && _tier.IsAvailable && !_tier.AcceptsWrites)
            {
                // The tier serves reads but refuses writes (full, read-only): every value dropped
                // now would be lost for good, a zspage of them at a time, while the tier still
                // holds everything written back before. Keep the pool as it is; stores that need
                // room evict one value of their size class, or are dropped themselves. (A tier
                // that is down altogether serves nothing: then the pool is the only cache and
                // evicts as one.)
                if (!_warnedRefusing)
                {
                    _warnedRefusing = true;
                    Log.HoldingWhileTierRefuses(_logger);
                }

                target = long.MaxValue;
            }
            else
            {
                _warnedRefusing = false;
            }

            while (_pool.TotalBytes > target && budget-- > 0 && !cancellationToken.IsCancellationRequested)
            {
                var drop = _tier is null || !_tier.IsAvailable;
                if (!drop && !_tier!.AcceptsWrites)
                {
                    // A refusal found during the pass: the next pass holds the pool still. Turning
                    // the rest of this one into drops would lose zspages of values the tier would
                    // have taken a second later.
                    break;
                }

                if (drop && _tier is not null && !_warnedDropping)
                {
                    _warnedDropping = true;
                    Log.DroppingWhileTierDown(_logger);
                }
                else if (!drop)
                {
                    _warnedDropping = false;
                }

                var step = await ReclaimOneAsync(drop, cancellationToken).ConfigureAwait(false);
                if (step.NothingToReclaim)
                {
                    break;
                }

                pagesFreed += step.PagesFreed;
                written += step.Written;
                dropped += step.Dropped;
                if (step.PagesFreed == 0 && step.Written == 0 && step.Dropped == 0 && step.Spared == 0)
                {
                    if (++fruitless >= MaxFruitlessSteps)
                    {
                        break;
                    }
                }
                else
                {
                    fruitless = 0;
                }

                if (step.Spared > 0 || (step.PagesFreed == 0 && (step.Written > 0 || step.Dropped > 0)))
                {
                    // Holes were punched without freeing the zspage: compaction, a local copy, is
                    // far cheaper than writing more back, so the holes count toward the target.
                    moved += CompactIfWorthIt(target);
                }
            }

            Log.ShrinkPass(_logger, pagesFreed, written, dropped, moved, _pool.TotalBytes, _options.MaxPoolBytes);
        }
        finally
        {
            _shrinkGate.Release();
        }
    }

    /// <summary>
    /// Reclaims up to <paramref name="zspages"/> LRU zspages whatever the watermarks (writing back,
    /// or dropping when there is no tier or it is down). For tests and tools; returns pages freed.
    /// </summary>
    internal async Task<int> ReclaimAsync(int zspages, CancellationToken cancellationToken = default)
    {
        await _shrinkGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var freed = 0;
            for (var i = 0; i < zspages; i++)
            {
                var drop = _tier is null || !_tier.IsAvailable;
                if (!drop && !_tier!.AcceptsWrites)
                {
                    break;
                }

                var step = await ReclaimOneAsync(drop, cancellationToken).ConfigureAwait(false);
                if (step.NothingToReclaim)
                {
                    break;
                }

                freed += step.PagesFreed;
            }

            return freed;
        }
        finally
        {
            _shrinkGate.Release();
        }
    }

    /// <summary>
    /// Holds the background shrinker off until disposed (it waits at its gate), so a test can
    /// drive a full pool through the request-thread paths alone.
    /// </summary>
    internal IDisposable PauseShrinker()
    {
        _shrinkGate.Wait();
        return new ShrinkerPause(_shrinkGate);
    }

    private sealed class ShrinkerPause(SemaphoreSlim gate) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                gate.Release();
            }
        }
    }

    /// <summary>
    /// Where a pass stops. Normally the low watermark; when much of what was written back lately
    /// came straight back (refaults), the working set does not fit and deep passes only thrash,
    /// so passes stop closer to the high watermark and write back less at a time. The recent
    /// counts decay by half every pass, so the feedback follows the workload.
    /// </summary>
    internal long ShrinkTarget()
    {
        var writebacks = Interlocked.Exchange(ref _recentWritebacks, Volatile.Read(ref _recentWritebacks) / 2);
        var refaults = Interlocked.Exchange(ref _recentRefaults, Volatile.Read(ref _recentRefaults) / 2);
        var ratio = writebacks == 0 ? 0 : (double)refaults / writebacks;
        var share = ratio >= 0.5 ? 88 : ratio >= 0.2 ? 85 : 80;
        return Math.Max(_lowWatermark, _options.MaxPoolBytes / 100 * share);
    }

    private long _recentWritebacks;
    private long _recentRefaults;

    /// <summary>
    /// An entry left the pool for the tier (written back, or clean: the tier had it already). Both
    /// count toward the refault feedback's writebacks, since a fault-in of either counts as a
    /// refault: counting only the written ones overstated the refault ratio wherever clean
    /// entries came and went, and made passes shallower than intended.
    /// </summary>
    private void NoteLeftForTier(int hash, long nowTicks)
    {
        Interlocked.Increment(ref _writtenBack);
        Interlocked.Increment(ref _recentWritebacks);
        RecordShadow(hash, nowTicks);
    }

    /// <summary>
    /// Compacts when an eighth of the pool could be given back (below that the moves cost more
    /// than the pages they free), or, during a shrink pass, as soon as the holes alone bring the
    /// pool down to <paramref name="target"/>: then moving objects is cheaper than writing more
    /// back. Without the second rule a pass that punches holes (EntryClock's spared entries)
    /// goes on writing back until an eighth of the pool is holes, and overshoots its target.
    /// </summary>
    private long CompactIfWorthIt(long target = -1)
    {
        var stats = _pool.GetStatistics();
        var freeableBytes = stats.FreeablePages * ZsPool.PageSize;
        var worthIt = freeableBytes >= Math.Max(stats.TotalBytes / 8, ZsPool.PageSize)
            || (freeableBytes > 0 && stats.TotalBytes - freeableBytes <= target);
        if (!worthIt)
        {
            return 0;
        }

        var result = _pool.Compact();
        _metrics.CompactionMoved(result.ObjectsMoved);
        return result.ObjectsMoved;
    }

    /// <summary>On a full pool: make room inline when nothing could take the store elsewhere, then try again.</summary>
    private bool TryMallocAfterDirectReclaim(string key, int size, out ZsHandle handle)
    {
        SignalShrinker();
        if (_tier is not null && _tier.AcceptsWrites)
        {
            // The tier can take the store itself: better than dropping cold data on a request thread.
            handle = default;
            return false;
        }

        // The key's own older value is about to go anyway: its room first. In a pool full to the
        // last slot an overwrite otherwise costs another key its value every time.
        RemoveFromPool(key);
        if (_pool.TryMalloc(size, out handle))
        {
            return true;
        }

        // Without a reachable tier, drop cold zspages (the pool is the only cache and evicts as
        // one). With a tier that serves reads but takes no writes every dropped value is lost
        // for good, and a zspage holds up to dozens: evict one object of the store's class if
        // it has any, else the store itself is the one value lost.
        return _tier is null || !_tier.IsAvailable ? TryMallocByDropping(size, out handle) : TryMallocByEvictingInClass(size, out handle);
    }

    /// <summary>
    /// Makes room for one <paramref name="size"/>-byte object by evicting single objects of its
    /// size class, for when every evicted value is lost (the tier takes no writes): a freed slot
    /// of the class fits the store, so each store costs at most one value rather than a zspage
    /// of them. Prefers values the tier still holds (clean), then values not read since the last
    /// look (CLOCK), then any. False when the class has nothing to evict or no slot fits.
    /// </summary>
    private bool TryMallocByEvictingInClass(int size, out ZsHandle handle)
    {
        for (var attempt = 0; attempt < MaxFruitlessInlineReclaims; attempt++)
        {
            var candidates = _pool.ObjectsOfColdZspage(size);
            if (candidates.Length == 0 || !EvictOneOf(candidates))
            {
                break;
            }

            if (_pool.TryMalloc(size, out handle))
            {
                return true;
            }
        }

        handle = default;
        return false;
    }

    /// <summary>The key hash and index shard of a pool object; false when the object was freed meanwhile.</summary>
    private bool TryLocate(ZsHandle handle, out int hash, out IndexShard shard)
    {
        try
        {
            hash = _pool.Read(handle, 0, static (obj, _) => ObjectLayout.ReadHash(obj));
        }
        catch (ZsPoolException)
        {
            hash = 0;
            shard = null!;
            return false;
        }

        shard = ShardFor(hash);
        return true;
    }

    private bool EvictOneOf(ZsHandle[] candidates)
    {
        var tierServes = _tier is not null && _tier.IsAvailable;
        for (var pass = 0; pass < 3; pass++)
        {
            foreach (var handle in candidates)
            {
                if (!TryLocate(handle, out var hash, out var shard))
                {
                    // Freed since the snapshot: its slot is free already, which is all we wanted.
                    return true;
                }

                lock (shard.Lock)
                {
                    var slot = shard.FindByHandle(hash, handle);
                    if (slot < 0)
                    {
                        continue;
                    }

                    ref var entry = ref shard[slot];
                    var clean = tierServes && (entry.Flags & EntryFlags.Clean) != 0 && entry.SlidingTicks == 0;
                    var referenced = (entry.Flags & EntryFlags.Referenced) != 0;
                    if (pass == 0 && !clean)
                    {
                        continue;
                    }

                    if (pass == 1 && referenced)
                    {
                        // Second chance, as the shrinker's CLOCK gives.
                        entry.Flags &= ~EntryFlags.Referenced;
                        continue;
                    }

                    FreeEntry(shard, slot);
                    if (clean)
                    {
                        NoteLeftForTier(hash, _time.GetUtcNow().UtcTicks);
                    }
                    else
                    {
                        _metrics.Evicted(EvictionReason.Shrink);
                    }

                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>Drops cold zspages inline until <paramref name="size"/> fits, within bounds.</summary>
    private bool TryMallocByDropping(int size, out ZsHandle handle)
    {
        var fruitless = 0;
        for (var i = 0; i < MaxInlineReclaims && fruitless < MaxFruitlessInlineReclaims; i++)
        {
            // Direct reclaim, as the kernel's, is not picky: a request waits on it, so no second chances.
            var step = ReclaimOneAsync(drop: true, CancellationToken.None, direct: true);

            // Dropping never awaits, so the step has completed here.
            if (!step.IsCompleted || step.Result.NothingToReclaim)
            {
                break;
            }

            if (_pool.TryMalloc(size, out handle))
            {
                return true;
            }

            if (step.Result.PagesFreed == 0)
            {
                fruitless++;
            }
        }

        handle = default;
        return false;
    }

    private readonly record struct ReclaimStep(bool NothingToReclaim, int PagesFreed, int Written, int Dropped, int Spared);

    private sealed record PendingWrite(IndexShard Shard, int Hash, ZsHandle Handle, long Version, ZsWritebackItem Item, byte[] Rented);

    private async ValueTask<ReclaimStep> ReclaimOneAsync(bool drop, CancellationToken cancellationToken, bool direct = false)
    {
        if (!_pool.TryBeginReclaim(out var reclaim))
        {
            return new ReclaimStep(true, 0, 0, 0, 0);
        }

        var written = 0;
        var dropped = 0;
        var spared = 0;
        var expired = 0;
        List<PendingWrite>? pending = null;
        var pagesFreed = 0;
        try
        {
            var now = _time.GetUtcNow();
            foreach (var handle in reclaim.Handles)
            {
                if (!TryLocate(handle, out var hash, out var shard))
                {
                    // Freed by a Remove or an overwrite since reclaim began: its handle is deferred, its object gone.
                    continue;
                }

                lock (shard.Lock)
                {
                    var slot = shard.FindByHandle(hash, handle);
                    if (slot < 0)
                    {
                        continue;
                    }

                    ref var entry = ref shard[slot];
                    if (now.UtcTicks >= entry.DeadlineTicks)
                    {
                        FreeEntry(shard, slot);
                        expired++;
                        continue;
                    }

                    if (!direct && _options.WritebackPolicy == ZsWritebackPolicy.EntryClock && (entry.Flags & EntryFlags.Referenced) != 0)
                    {
                        entry.Flags &= ~EntryFlags.Referenced;
                        spared++;
                        continue;
                    }

                    if ((entry.Flags & EntryFlags.Clean) != 0 && entry.SlidingTicks == 0 && _tier is not null && _tier.IsAvailable)
                    {
                        // The tier holds this very version and no sliding renewal can have outrun its TTL.
                        FreeEntry(shard, slot);
                        NoteLeftForTier(hash, now.UtcTicks);
                        written++;
                        continue;
                    }

                    if (drop)
                    {
                        FreeEntry(shard, slot);
                        dropped++;
                        continue;
                    }

                    var rented = ArrayPool<byte>.Shared.Rent(entry.DataLength);
                    var key = _pool.Read(handle, rented, static (obj, buffer) =>
                    {
                        ObjectLayout.Data(obj).CopyTo(buffer);
                        return Encoding.UTF8.GetString(ObjectLayout.Key(obj));
                    });
                    var item = new ZsWritebackItem
                    {
                        Key = key,
                        Version = entry.Version,
                        Codec = entry.Codec,
                        OriginalLength = entry.OriginalLength,
                        Data = rented.AsMemory(0, entry.DataLength),
                        AbsoluteExpiration = entry.AbsoluteTicks == long.MaxValue ? null : new DateTimeOffset(entry.AbsoluteTicks, TimeSpan.Zero),
                        SlidingExpiration = entry.SlidingTicks == 0 ? null : TimeSpan.FromTicks(entry.SlidingTicks),
                        TimeToLive = TimeToLive(entry.DeadlineTicks, now.UtcTicks),
                    };

                    // Cleared so that a read during the writeback shows, and wins.
                    entry.Flags = (entry.Flags | EntryFlags.InFlight) & ~EntryFlags.Referenced;
                    (pending ??= []).Add(new PendingWrite(shard, hash, handle, entry.Version, item, rented));
                }
            }

            if (pending is not null)
            {
                written += await WriteBackAsync(pending, now, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            pagesFreed = _pool.EndReclaim(reclaim);
        }

        _metrics.Evicted(EvictionReason.Expired, expired);
        _metrics.Evicted(EvictionReason.Shrink, dropped);
        return new ReclaimStep(false, pagesFreed, written, dropped + expired, spared);
    }

    private async Task<int> WriteBackAsync(List<PendingWrite> pending, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var items = new ZsWritebackItem[pending.Count];
        for (var i = 0; i < items.Length; i++)
        {
            items[i] = pending[i].Item;
        }

        try
        {
            await _tier!.WriteAsync(items, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The tier promises not to throw for its faults; whatever it threw, nothing was confirmed.
            Log.ShrinkerFailed(_logger, ex);
            foreach (var item in items)
            {
                if (item.Outcome == ZsWritebackOutcome.Pending)
                {
                    item.Outcome = ZsWritebackOutcome.Failed;
                }
            }
        }

        var freed = 0;
        var failed = 0;
        long bytes = 0;
        foreach (var p in pending)
        {
            var stored = p.Item.Outcome is ZsWritebackOutcome.Written or ZsWritebackOutcome.Superseded;
            if (stored)
            {
                bytes += p.Item.Outcome == ZsWritebackOutcome.Written ? p.Item.Data.Length : 0;
            }
            else
            {
                failed++;
            }

            lock (p.Shard.Lock)
            {
                var slot = p.Shard.FindByHandle(p.Hash, p.Handle);
                if (slot >= 0 && p.Shard[slot].Version == p.Version)
                {
                    ref var entry = ref p.Shard[slot];
                    entry.Flags &= ~EntryFlags.InFlight;
                    if (stored)
                    {
                        if ((entry.Flags & EntryFlags.Referenced) != 0 && p.Item.Outcome == ZsWritebackOutcome.Written)
                        {
                            // A read touched it during the writeback: it stays, and the tier's copy is current.
                            entry.Flags |= EntryFlags.Clean;
                        }
                        else
                        {
                            FreeEntry(p.Shard, slot);
                            freed++;
                            if (p.Item.Outcome == ZsWritebackOutcome.Written)
                            {
                                NoteLeftForTier(p.Hash, now.UtcTicks);
                            }
                        }
                    }
                }
            }

            ArrayPool<byte>.Shared.Return(p.Rented);
        }

        _metrics.WritebackOk(pending.Count - failed, bytes);
        _metrics.WritebackFailed(failed);
        if (failed > 0)
        {
            Log.WritebackPartlyFailed(_logger, failed, pending.Count);
        }

        return freed;
    }

    // ---- expiration ----

    /// <summary>Frees every expired entry. Runs on the scan timer; tests may call it directly.</summary>
    internal int ScanExpired()
    {
        var removed = 0;
        try
        {
            var now = _time.GetUtcNow().UtcTicks;
            foreach (var shard in _shards)
            {
                lock (shard.Lock)
                {
                    for (var slot = 0; slot < shard.Capacity; slot++)
                    {
                        if (shard[slot].IsLive && now >= shard[slot].DeadlineTicks && (shard[slot].Flags & EntryFlags.InFlight) == 0)
                        {
                            FreeEntry(shard, slot);
                            removed++;
                        }
                    }
                }
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.ScanFailed(_logger, ex);
        }

        _metrics.Evicted(EvictionReason.Expired, removed);
        return removed;
    }
}
