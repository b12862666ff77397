using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;

namespace ZsCache.Pool;

/// <summary>Writeback reclaim: the port of <c>zs_reclaim_page</c> and <c>zs_zpool_shrink</c>.</summary>
internal sealed partial class ZsPool
{
    /// <summary>Zspages one <see cref="Shrink"/> step tries before giving up, as the patch's
    /// <c>zs_reclaim_page(pool, 8)</c>: each refused zspage goes to the LRU front, so eight
    /// tries look at the eight coldest zspages.</summary>
    public const int ReclaimRetries = 8;

    /// <summary>LRU entries <see cref="ObjectsOfColdZspage"/> looks at, from the tail, for a zspage of the class.</summary>
    private const int ColdZspageScan = 256;

    /// <summary>
    /// The live objects of one zspage of the class that holds <paramref name="size"/>-byte
    /// objects, for a caller that must free objects one at a time rather than a zspage at once
    /// (objects nobody else holds, when the writeback tier takes no writes); freeing any of them
    /// makes room for such an object. The class's zspage nearest the LRU tail among the coldest
    /// <see cref="ColdZspageScan"/>, so the values given up are old ones; failing that the
    /// fullest (the head of a fullness list is the zspage filled last, the hottest). A snapshot:
    /// any of them may be freed meanwhile. Empty when the class has no zspage outside reclaim.
    /// </summary>
    public ZsHandle[] ObjectsOfColdZspage(int size)
    {
        ThrowIfDisposed();
        if (size < 1 || size > MaxObjectBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, $"An object is 1 to {MaxObjectBytes} bytes.");
        }

        ZsSizeClass cls = ClassFor(size);
        lock (cls.Lock)
        {
            ZsPage? chosen = null;
            lock (_lruLock)
            {
                var page = _lruTail;
                for (var i = 0; i < ColdZspageScan && page is not null; i++, page = page.LruPrev)
                {
                    // Fullness and UnderReclaim belong to the class lock, held: a page of this
                    // class on a fullness list is outside reclaim and holds objects.
                    if (page.Class == cls && page.Fullness > ZsSizeClass.FullnessEmpty)
                    {
                        chosen = page;
                        break;
                    }
                }
            }

            for (int group = ZsSizeClass.FullnessFull; chosen is null && group > ZsSizeClass.FullnessEmpty; group--)
            {
                chosen = cls.HeadOf(group);
            }

            if (chosen is null)
            {
                return [];
            }

            var indices = new List<int>(chosen.InUse);
            chosen.CollectLiveHandleIndices(indices);
            var handles = new ZsHandle[indices.Count];
            for (int i = 0; i < handles.Length; i++)
            {
                handles[i] = ZsHandle.Create(indices[i], _handles.GetEntry(indices[i]).Generation);
            }

            return handles;
        }
    }

    /// <summary>
    /// Begins reclaiming the least recently used zspage.
    /// <list type="number">
    /// <item>Take the LRU tail off the LRU.</item>
    /// <item>Mark it under reclaim, so a free of its last object neither frees it nor
    /// releases the handle for reuse.</item>
    /// <item>Take it off its fullness list, so neither allocation nor compaction touches it.</item>
    /// <item>Snapshot the handles of its live objects into the returned <see cref="ZsReclaim"/>.</item>
    /// </list>
    /// The caller then writes the objects back (reading them is fine), frees those it wrote,
    /// and must call <see cref="EndReclaim"/> exactly once.
    /// </summary>
    /// <returns>False when the LRU is empty (every zspage is free or already under reclaim).</returns>
    public bool TryBeginReclaim([NotNullWhen(true)] out ZsReclaim? reclaim)
    {
        ThrowIfDisposed();
        while (true)
        {
            ZsPage? tail;
            lock (_lruLock)
            {
                tail = _lruTail;
            }

            if (tail is null)
            {
                reclaim = null;
                return false;
            }

            // Class lock first (lock ordering), then confirm the zspage is still on the LRU:
            // between the peek and here it may have been freed or taken by another reclaim.
            ZsSizeClass cls = tail.Class;
            lock (cls.Lock)
            {
                lock (_lruLock)
                {
                    if (!tail.InLru)
                    {
                        continue;
                    }

                    RemoveFromLruLocked(tail);
                }

                Debug.Assert(!tail.UnderReclaim && !tail.IsFreed && tail.Fullness >= 0 && tail.InUse > 0, "an LRU zspage is live and listed");
                tail.UnderReclaim = true;
                cls.Remove(tail);

                var indices = new List<int>(tail.InUse);
                tail.CollectLiveHandleIndices(indices);
                var handles = new ZsHandle[indices.Count];
                for (int i = 0; i < handles.Length; i++)
                {
                    handles[i] = ZsHandle.Create(indices[i], _handles.GetEntry(indices[i]).Generation);
                }

                Interlocked.Increment(ref _reclaimsBegun);
                reclaim = new ZsReclaim(this, tail, handles);
                return true;
            }
        }
    }

    /// <summary>
    /// Ends a reclaim.
    /// <list type="number">
    /// <item>Clear the under-reclaim mark.</item>
    /// <item>Release the deferred handles of objects freed meanwhile for reuse.</item>
    /// <item>If the zspage is empty, free it and return its pages; otherwise put it back on
    /// its fullness list and at the LRU front (so the next reclaim tries another zspage)
    /// and return 0.</item>
    /// </list>
    /// </summary>
    /// <exception cref="ArgumentException">The reclaim belongs to another pool.</exception>
    /// <exception cref="InvalidOperationException">The reclaim has already ended.</exception>
    public int EndReclaim(ZsReclaim reclaim)
    {
        ArgumentNullException.ThrowIfNull(reclaim);
        if (reclaim.Pool != this)
        {
            throw new ArgumentException("The reclaim was begun by another pool.", nameof(reclaim));
        }

        ThrowIfDisposed();
        ZsPage page = reclaim.Zspage;
        ZsSizeClass cls = page.Class;
        List<int>? deferred;
        int pagesFreed = 0;
        lock (cls.Lock)
        {
            if (reclaim.IsEnded)
            {
                throw new InvalidOperationException("This reclaim has already ended.");
            }

            reclaim.IsEnded = true;
            Debug.Assert(page.UnderReclaim && !page.IsFreed && page.Fullness == -1 && !page.InLru, "a reclaimed zspage is off every list");
            page.UnderReclaim = false;
            deferred = page.DeferredHandles;
            page.DeferredHandles = null;

            if (page.InUse == 0)
            {
                // No live object is left, so no reader can be validly inside its guard.
                page.IsFreed = true;
                ReleaseZspageLocked(cls, page);
                pagesFreed = page.Pages;
                Interlocked.Increment(ref _zspagesReclaimed);
            }
            else
            {
                cls.Insert(page);
                lock (_lruLock)
                {
                    AddToFrontLocked(page);
                }
            }
        }

        if (deferred is not null)
        {
            _handles.Release(CollectionsMarshal.AsSpan(deferred));
        }

        return pagesFreed;
    }

    /// <summary>
    /// Synchronous shrink (the patch's <c>zs_zpool_shrink</c>): reclaims LRU-tail zspages until
    /// <paramref name="pages"/> pages are freed or a step fails. One step is
    /// <c>zs_reclaim_page</c>: begin a reclaim, call <paramref name="evict"/> on each object
    /// still live, stop at the first refusal, end the reclaim; if the zspage was not freed,
    /// try the next tail, up to <see cref="ReclaimRetries"/> zspages.
    /// </summary>
    /// <param name="pages">Pages to free (0 or more).</param>
    /// <param name="evict">Writes an object back and frees it (<see cref="Free"/>), returning
    /// true; or returns false to refuse (the zspage is put back, its objects intact). Called
    /// with no pool lock held.</param>
    /// <returns>Pages freed; may exceed <paramref name="pages"/> by less than one zspage.</returns>
    public int Shrink(int pages, Func<ZsHandle, bool> evict)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pages);
        ArgumentNullException.ThrowIfNull(evict);
        int freed = 0;
        while (freed < pages)
        {
            int step = ReclaimPage(evict);
            if (step <= 0)
            {
                break;
            }

            freed += step;
        }

        return freed;
    }

    // One zs_reclaim_page: pages freed, or 0 after ReclaimRetries zspages were put back or
    // when there is nothing to reclaim.
    private int ReclaimPage(Func<ZsHandle, bool> evict)
    {
        for (int attempt = 0; attempt < ReclaimRetries; attempt++)
        {
            if (!TryBeginReclaim(out ZsReclaim? reclaim))
            {
                return 0;
            }

            int freed;
            try
            {
                foreach (ZsHandle handle in reclaim.Handles)
                {
                    // Skip objects freed since the snapshot (find_alloced_obj sees only live ones).
                    if (IsLive(handle) && !evict(handle))
                    {
                        break;
                    }
                }
            }
            finally
            {
                freed = EndReclaim(reclaim);
            }

            if (freed > 0)
            {
                return freed;
            }
        }

        return 0;
    }
}
