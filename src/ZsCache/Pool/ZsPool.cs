using System.Diagnostics;

namespace ZsCache.Pool;

/*
 * ZsPool: a port of Linux's zsmalloc (mm/zsmalloc.c) plus the zspage LRU and writeback
 * reclaim of the 2022 patch "zsmalloc: Implement writeback mechanism" (zs_reclaim_page).
 *
 * Design
 * ------
 * - Objects of similar size share a size class; a class's zspages are pinned buffers of
 *   1..16 pages carved into equal slots (ZsSizeClassGeometry explains the class table and
 *   where it deviates from the kernel). Objects above 16 KiB get a "large" zspage each.
 * - A handle names an entry of the handle table, which holds the object's location
 *   (zspage id, slot), its length and a generation. Compaction moves an object by copying it
 *   and rewriting the location; the handle is unchanged. A freed handle's generation no
 *   longer matches, so any use of it throws instead of reaching another object.
 * - Each zspage is on one fullness list of its class (allocation: fullest first; compaction:
 *   sparsest into densest) and on the pool's LRU (front on allocation, or on Touch).
 * - Reclaim takes the LRU tail off both, hands its objects to the caller, then frees the
 *   zspage if the caller freed them all, or puts it back (fullness list + LRU front).
 * - The pool never holds more than MaxBytes of zspage memory: bytes are reserved before a
 *   buffer is allocated, and an allocation that would pass the limit returns false. Freed
 *   buffers are kept for reuse only while live zspages plus kept buffers fit the limit.
 *
 * Lock ordering (outermost first)
 * -------------------------------
 *   1. class lock      ZsSizeClass.Lock (the kernel's class->lock / pool->lock).
 *                      Owns the class's fullness lists and counters, the slot bookkeeping of
 *                      its zspages, their UnderReclaim/deferred-handle state, and the
 *                      location/generation of its objects' handle entries. Never hold two.
 *   2. migrate lock    ZsPage.Guard, a reader/writer lock per zspage (zspage->lock).
 *                      Read side: Read and Write of one object, taken with NO other pool
 *                      lock held. Write side: freeing a slot, moving objects out, only ever
 *                      taken under (1). Nothing is acquired while holding the read side.
 *   3. LRU lock        ZsPool._lruLock (the patch's pool->lock around pool->lru).
 *                      Owns the LRU list and the zspage table. Leaf.
 *   -  handle lock     inside ZsHandleTable: index free list and growth. Leaf.
 *   -  recycle lock    inside ZsBufferRecycler: freed buffers kept for reuse. Leaf.
 *   TotalBytes is an Interlocked counter, not a lock.
 *
 * Lock-free paths: handle lookup (segmented table), zspage lookup (segmented table).
 * A reader validates what it looked up after taking the zspage's read guard: the handle
 * still has its generation, still names this zspage and slot, and the zspage is not freed.
 * Everything that could change those holds the write guard, so under the read guard the
 * object's bytes are stable and belong to it.
 */

/// <summary>
/// A zsmalloc-style pool of variable-sized objects in pinned zspage buffers, with handles,
/// size classes, fullness groups, compaction, a zspage LRU and two-phase writeback reclaim.
/// Thread-safe. See the design comment at the top of <c>ZsPool.cs</c> for the lock ordering.
/// </summary>
internal sealed partial class ZsPool : IDisposable
{
    /// <summary>Bytes of a page of a zspage.</summary>
    public const int PageSize = ZsSizeClassGeometry.PageSize;

    /// <summary>Largest object a size class holds; larger ones get a zspage of their own.</summary>
    public const int MaxSizeClassBytes = ZsSizeClassGeometry.MaxClassSize;

    /// <summary>Smallest accepted limit: one longest zspage (16 pages), so every size class
    /// can hold at least one zspage.</summary>
    public const long MinPoolBytes = (long)ZsSizeClassGeometry.MaxPagesPerZspage * PageSize;

    /// <summary>Largest accepted object: the largest whole-page length of a .NET byte array
    /// (<see cref="Array.MaxLength"/> rounded down to pages).</summary>
    public const int MaxObjectBytesLimit = 0x7FFFFFC7 & ~(PageSize - 1);

    private const int SlotBits = ZsSizeClassGeometry.SlotBits;

    private const ulong SlotMask = (1UL << SlotBits) - 1;

    // Class index → class (merged indices share one).
    private readonly ZsSizeClass[] _classByIndex;

    // The distinct classes, smallest first, then the large class.
    private readonly ZsSizeClass[] _classes;

    private readonly ZsSizeClass _largeClass;

    private readonly ZsHandleTable _handles = new();

    private readonly ZsPageTable _pageTable = new();

    private readonly ZsBufferRecycler _recycler;

    // Pool-level lock for the LRU and the zspage table (see the lock ordering).
    private readonly Lock _lruLock = new();

    // Most recently used at the head; reclaim takes the tail.
    private ZsPage? _lruHead;
    private ZsPage? _lruTail;

    private long _totalBytes;
    private volatile bool _disposed;

    private long _allocationFailures;
    private long _pagesCompacted;
    private long _objectsMoved;
    private long _reclaimsBegun;
    private long _zspagesReclaimed;
    private long _deferredFrees;

    /// <summary>Creates an empty pool.</summary>
    /// <param name="maxBytes">Hard limit on zspage memory; at least <see cref="MinPoolBytes"/>.</param>
    /// <param name="maxObjectBytes">Largest object; 1 to <see cref="MaxObjectBytesLimit"/>, and
    /// its zspage (rounded up to whole pages) must fit in <paramref name="maxBytes"/>.</param>
    public ZsPool(long maxBytes, int maxObjectBytes)
    {
        if (maxBytes < MinPoolBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(maxBytes), maxBytes, $"The pool limit must be at least {MinPoolBytes} bytes (one 16-page zspage).");
        }

        if (maxObjectBytes < 1 || maxObjectBytes > MaxObjectBytesLimit)
        {
            throw new ArgumentOutOfRangeException(nameof(maxObjectBytes), maxObjectBytes, $"The largest object must be 1 to {MaxObjectBytesLimit} bytes.");
        }

        if (RoundUpToPages(maxObjectBytes) > maxBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(maxObjectBytes), maxObjectBytes, $"The largest object's zspage ({RoundUpToPages(maxObjectBytes)} bytes) must fit in the pool limit ({maxBytes} bytes).");
        }

        MaxBytes = maxBytes;
        MaxObjectBytes = maxObjectBytes;

        // Freed buffers kept for reuse: 1/32 of the limit (≈3% idle memory at most), and no
        // more than 16 MiB (256 of the longest zspages), enough to absorb a shrink/refill burst.
        _recycler = new ZsBufferRecycler(Math.Min(maxBytes / 32, 16L * 1024 * 1024), () => MaxBytes - TotalBytes);

        IReadOnlyList<ZsSizeClassGeometry.ClassGeometry> byIndex = ZsSizeClassGeometry.ByIndex;
        var distinct = new Dictionary<ZsSizeClassGeometry.ClassGeometry, ZsSizeClass>(ReferenceEqualityComparer.Instance);
        _classByIndex = new ZsSizeClass[byIndex.Count];
        for (int i = 0; i < byIndex.Count; i++)
        {
            ZsSizeClassGeometry.ClassGeometry g = byIndex[i];
            if (!distinct.TryGetValue(g, out ZsSizeClass? cls))
            {
                cls = new ZsSizeClass(g.Index, g.Size, g.PagesPerZspage, g.ObjsPerZspage, isLarge: false);
                distinct.Add(g, cls);
            }

            _classByIndex[i] = cls;
        }

        _largeClass = new ZsSizeClass(ZsSizeClassGeometry.ClassCount, size: 0, pagesPerZspage: 0, objsPerZspage: 1, isLarge: true);
        _classes = [.. distinct.Values.OrderBy(c => c.Index), _largeClass];
    }

    /// <summary>The hard limit on zspage memory.</summary>
    public long MaxBytes { get; }

    /// <summary>The largest object <see cref="TryMalloc"/> accepts.</summary>
    public int MaxObjectBytes { get; }

    /// <summary>Memory of the live zspages now: what shrinking and compaction lower and what
    /// <see cref="MaxBytes"/> limits (together with <see cref="RecycledBytes"/>, which the
    /// pool drops before it would pass the limit).</summary>
    public long TotalBytes => Interlocked.Read(ref _totalBytes);

    /// <summary>Freed zspage buffers kept for reuse (bounded; dropped whenever live zspages
    /// need the room). <see cref="TotalBytes"/> + this never exceeds <see cref="MaxBytes"/>.</summary>
    public long RecycledBytes => _recycler.Bytes;

    /// <summary>
    /// Allocates an object of <paramref name="size"/> bytes (zeroed) in the fullest non-full
    /// zspage of its class, or in a new zspage if none has room, and moves that zspage to the
    /// LRU front.
    /// </summary>
    /// <returns>False, without side effects, when a new zspage would pass <see cref="MaxBytes"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is not 1..<see cref="MaxObjectBytes"/>.</exception>
    public bool TryMalloc(int size, out ZsHandle handle)
    {
        ThrowIfDisposed();
        if (size < 1 || size > MaxObjectBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, $"An object is 1 to {MaxObjectBytes} bytes.");
        }

        ZsSizeClass cls = ClassFor(size);
        lock (cls.Lock)
        {
            ZsPage? page = cls.IsLarge ? null : cls.FullestNonFull();
            if (page is null)
            {
                page = TryAddZspageLocked(cls, size);
                if (page is null)
                {
                    Interlocked.Increment(ref _allocationFailures);
                    handle = default;
                    return false;
                }
            }

            int index = _handles.Allocate();
            int slot = page.AllocateSlot(index);
            ref ZsHandleTable.Entry entry = ref _handles.GetEntry(index);
            Debug.Assert(Volatile.Read(ref entry.Location) == 0, "a free index has no location");
            entry.Length = size;

            // A new object reads as zeros, never as a previous object's leftovers.
            page.Buffer.AsSpan(page.OffsetOf(slot), size).Clear();

            // Publish last: a location is only ever seen with its length and cleared bytes.
            Volatile.Write(ref entry.Location, Pack(page.Id, slot));
            cls.ObjsUsed++;
            cls.LiveBytes += size;
            cls.Refresh(page);

            // Consecutive allocations usually land in the zspage already at the front; the
            // unlocked peek can only be stale in a way that costs one LRU position, never
            // correctness (the move itself is under the lock).
            if (Volatile.Read(ref _lruHead) != page)
            {
                lock (_lruLock)
                {
                    Debug.Assert(page.InLru, "a listed zspage is on the LRU");
                    MoveToFrontLocked(page);
                }
            }

            handle = ZsHandle.Create(index, entry.Generation);
            return true;
        }
    }

    /// <summary>
    /// Frees an object. Waits for readers of its zspage to leave. If the zspage empties it
    /// is freed, unless it is under reclaim: then the handle is kept out of reuse until the
    /// reclaim ends (the patch's deferred handles).
    /// </summary>
    /// <exception cref="ZsPoolException">The handle is null, unknown or already freed.</exception>
    public void Free(ZsHandle handle)
    {
        ThrowIfDisposed();
        ref ZsHandleTable.Entry entry = ref _handles.Find(handle);
        int index = handle.Index;
        while (true)
        {
            ulong location = ReadLiveLocation(ref entry, handle);
            ZsPage? page = _pageTable.Get(IdOf(location));
            if (page is null)
            {
                continue; // moved and its old zspage freed; re-read the location
            }

            ZsSizeClass cls = page.Class;
            lock (cls.Lock)
            {
                if (Volatile.Read(ref entry.Generation) != handle.Generation || Volatile.Read(ref entry.Location) == 0)
                {
                    throw Stale(handle);
                }

                if (Volatile.Read(ref entry.Location) != location || page.IsFreed)
                {
                    continue; // compaction moved it before we got the lock
                }

                int slot = SlotOf(location);
                Debug.Assert(page.HandleAt(slot) == index, "the slot records its handle");
                int length = entry.Length;
                bool emptied;

                page.Guard.EnterWrite();
                Volatile.Write(ref entry.Location, 0);
                Volatile.Write(ref entry.Generation, entry.Generation + 1);
                entry.Length = 0;
                page.FreeSlot(slot);
                emptied = page.InUse == 0 && !page.UnderReclaim;
                if (emptied)
                {
                    page.IsFreed = true;
                }

                page.Guard.ExitWrite();

                cls.ObjsUsed--;
                cls.LiveBytes -= length;
                if (page.UnderReclaim)
                {
                    // zs_free under reclaim: the slot is free and counted, the handle waits.
                    (page.DeferredHandles ??= []).Add(index);
                    Interlocked.Increment(ref _deferredFrees);
                    return;
                }

                if (emptied)
                {
                    cls.Remove(page);
                    ReleaseZspageLocked(cls, page);
                }
                else
                {
                    cls.Refresh(page);
                }
            }

            _handles.Release(index);
            return;
        }
    }

    /// <summary>The length the object was allocated with.</summary>
    /// <exception cref="ZsPoolException">The handle is null, unknown or freed.</exception>
    public int GetLength(ZsHandle handle)
    {
        ThrowIfDisposed();
        ref ZsHandleTable.Entry entry = ref _handles.Find(handle);
        _ = ReadLiveLocation(ref entry, handle);
        int length = Volatile.Read(ref entry.Length);

        // A free (and reuse) in between would have changed the generation.
        _ = ReadLiveLocation(ref entry, handle);
        return length;
    }

    /// <summary>True if the handle names a live object of this pool (false for null, unknown or freed).</summary>
    public bool IsLive(ZsHandle handle)
    {
        if (handle.IsNull || _disposed)
        {
            return false;
        }

        try
        {
            ref ZsHandleTable.Entry entry = ref _handles.Find(handle);
            return Volatile.Read(ref entry.Generation) == handle.Generation && Volatile.Read(ref entry.Location) != 0;
        }
        catch (ZsPoolException)
        {
            return false;
        }
    }

    /// <summary>
    /// Copies <paramref name="source"/> into the object at <paramref name="offset"/>, under the
    /// zspage's read guard (the object cannot move meanwhile). Concurrent writes and reads of
    /// the same object are the caller's to order.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The range is not inside the object.</exception>
    /// <exception cref="ZsPoolException">The handle is null, unknown or freed.</exception>
    public void Write(ZsHandle handle, int offset, ReadOnlySpan<byte> source)
    {
        ZsPage page = EnterObjectGuard(handle, out int objectOffset, out int length);
        try
        {
            if (offset < 0 || offset > length)
            {
                throw new ArgumentOutOfRangeException(nameof(offset), offset, $"The offset must be 0 to the object's length ({length}).");
            }

            if (source.Length > length - offset)
            {
                throw new ArgumentOutOfRangeException(nameof(source), source.Length, $"{source.Length} bytes at offset {offset} do not fit in an object of {length} bytes.");
            }

            source.CopyTo(page.Buffer.AsSpan(objectOffset + offset, source.Length));
        }
        finally
        {
            page.Guard.ExitRead();
        }
    }

    /// <summary>
    /// Calls <paramref name="reader"/> with exactly the object's bytes, in place, under the
    /// zspage's read guard: no move, free or reclaim-free of the object while it runs. The
    /// reader must not call back into the pool, and should be short (compaction and frees in
    /// the zspage wait for it).
    /// </summary>
    /// <exception cref="ZsPoolException">The handle is null, unknown or freed.</exception>
    public TResult Read<TState, TResult>(ZsHandle handle, TState state, ZsReadFunc<TState, TResult> reader)
        where TState : allows ref struct
    {
        ArgumentNullException.ThrowIfNull(reader);
        ZsPage page = EnterObjectGuard(handle, out int offset, out int length);
        try
        {
            return reader(new ReadOnlySpan<byte>(page.Buffer, offset, length), state);
        }
        finally
        {
            page.Guard.ExitRead();
        }
    }

    /// <summary>
    /// The object's bytes in place, with the zspage's read guard held until
    /// <see cref="ExitRead"/>: the same protection as <see cref="Read{TState, TResult}"/>, for a hot
    /// caller that would otherwise pay a delegate call and a state copy per read. The caller must
    /// call <see cref="ExitRead"/> with <paramref name="page"/> in a <c>finally</c>, must not call
    /// into the pool before then, and must not keep the span past it.
    /// </summary>
    /// <exception cref="ZsPoolException">The handle is null, unknown or freed.</exception>
    public ReadOnlySpan<byte> EnterRead(ZsHandle handle, out ZsPage page)
    {
        page = EnterObjectGuard(handle, out int offset, out int length);
        return new ReadOnlySpan<byte>(page.Buffer, offset, length);
    }

    /// <summary>Leaves the read guard <see cref="EnterRead"/> took.</summary>
    public static void ExitRead(ZsPage page) => page.Guard.ExitRead();

    /// <summary>
    /// Moves the object's zspage to the LRU front, as an allocation in it would. The pool
    /// never calls it itself (the cache decides whether reads should count as use). A zspage
    /// under reclaim is not on the LRU and is left alone.
    /// </summary>
    /// <exception cref="ZsPoolException">The handle is null, unknown or freed.</exception>
    public void Touch(ZsHandle handle)
    {
        ThrowIfDisposed();
        ref ZsHandleTable.Entry entry = ref _handles.Find(handle);
        while (true)
        {
            ulong location = ReadLiveLocation(ref entry, handle);
            ZsPage? page = _pageTable.Get(IdOf(location));
            if (page is null)
            {
                continue;
            }

            lock (_lruLock)
            {
                if (page.InLru)
                {
                    MoveToFrontLocked(page);
                }
            }

            return;
        }
    }

    /// <summary>Drops every zspage. The pool must not be in use by other threads.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (ZsSizeClass cls in _classes)
        {
            lock (cls.Lock)
            {
                lock (_lruLock)
                {
                    foreach (ZsPage page in _pageTable.Snapshot())
                    {
                        if (page.Class == cls)
                        {
                            page.IsFreed = true;
                            if (page.Fullness >= 0)
                            {
                                cls.Remove(page);
                            }

                            if (page.InLru)
                            {
                                RemoveFromLruLocked(page);
                            }

                            _pageTable.Remove(page);
                            Interlocked.Add(ref _totalBytes, -page.Buffer.Length);
                        }
                    }
                }

                cls.Zspages = cls.Pages = cls.ObjsAllocated = cls.ObjsUsed = cls.LiveBytes = 0;
            }
        }

        _recycler.Clear();
    }

    internal static long RoundUpToPages(long bytes) => (bytes + PageSize - 1) & ~(long)(PageSize - 1);

    private static ulong Pack(int zspageId, int slot)
    {
        Debug.Assert(zspageId > 0 && (uint)slot <= SlotMask, "location fields in range");
        return ((ulong)(uint)zspageId << SlotBits) | (uint)slot;
    }

    private static int IdOf(ulong location) => (int)(location >> SlotBits);

    private static int SlotOf(ulong location) => (int)(location & SlotMask);

    private static ZsPoolException Stale(ZsHandle handle) =>
        new($"{handle} is stale: its object was freed, or this pool never issued it.");

    private ZsSizeClass ClassFor(int size) =>
        size > MaxSizeClassBytes ? _largeClass : _classByIndex[ZsSizeClassGeometry.IndexOfSize(size)];

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    // The handle's current location, or a ZsPoolException if it is not live. Lock-free.
    private static ulong ReadLiveLocation(ref ZsHandleTable.Entry entry, ZsHandle handle)
    {
        ulong location = Volatile.Read(ref entry.Location);
        if (Volatile.Read(ref entry.Generation) != handle.Generation || location == 0)
        {
            throw Stale(handle);
        }

        return location;
    }

    // Finds the object's zspage and enters its read guard, after which the object's location,
    // length and bytes are stable. Caller must ExitRead.
    private ZsPage EnterObjectGuard(ZsHandle handle, out int offset, out int length)
    {
        ThrowIfDisposed();
        ref ZsHandleTable.Entry entry = ref _handles.Find(handle);
        while (true)
        {
            ulong location = ReadLiveLocation(ref entry, handle);
            ZsPage? page = _pageTable.Get(IdOf(location));
            if (page is null)
            {
                continue; // moved and the old zspage freed; the location has changed
            }

            page.Guard.EnterRead();

            // Order matters: location, then freed, then generation (see the design comment).
            if (Volatile.Read(ref entry.Location) == location
                && !page.IsFreed
                && Volatile.Read(ref entry.Generation) == handle.Generation)
            {
                offset = page.OffsetOf(SlotOf(location));
                length = entry.Length;
                Debug.Assert(length >= 1 && length <= page.SlotSize, "length fits the slot");
                return page;
            }

            page.Guard.ExitRead();
        }
    }

    // Reserves bytes against the limit; false if they would pass it.
    private bool TryReserve(long bytes)
    {
        long current = Interlocked.Read(ref _totalBytes);
        while (true)
        {
            if (current + bytes > MaxBytes)
            {
                return false;
            }

            long seen = Interlocked.CompareExchange(ref _totalBytes, current + bytes, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }
    }

    // New zspage for the class (class lock held), on its fullness list and the LRU front;
    // null if the limit forbids it.
    private ZsPage? TryAddZspageLocked(ZsSizeClass cls, int size)
    {
        int bytes = cls.IsLarge ? (int)RoundUpToPages(size) : cls.PagesPerZspage * PageSize;
        if (!TryReserve(bytes))
        {
            return null;
        }

        byte[]? buffer = _recycler.TryTake(bytes / PageSize);
        if (buffer is null)
        {
            // Make room under the limit for the new buffer: kept buffers go first.
            _recycler.Trim();
            try
            {
                // Pinned object heap: never moved by the GC, and a byte[] has nothing to mark.
                // Uninitialized: TryMalloc clears each object as it is allocated.
                buffer = GC.AllocateUninitializedArray<byte>(bytes, pinned: true);
            }
            catch
            {
                Interlocked.Add(ref _totalBytes, -bytes);
                throw;
            }
        }

        int slotSize = cls.IsLarge ? bytes : cls.Size;
        int capacity = cls.IsLarge ? 1 : cls.ObjsPerZspage;
        ZsPage page;
        lock (_lruLock)
        {
            page = new ZsPage(cls, _pageTable.AllocateId(), buffer, slotSize, capacity);
            _pageTable.Set(page);
            AddToFrontLocked(page);
        }

        cls.Zspages++;
        cls.Pages += page.Pages;
        cls.ObjsAllocated += capacity;
        cls.Insert(page);
        return page;
    }

    // Drops an empty zspage already off its fullness list and marked freed (class lock held).
    private void ReleaseZspageLocked(ZsSizeClass cls, ZsPage page)
    {
        Debug.Assert(page.InUse == 0 && page.IsFreed && page.Fullness == -1 && !page.UnderReclaim, "only an empty, unlisted zspage is released");
        cls.Zspages--;
        cls.Pages -= page.Pages;
        cls.ObjsAllocated -= page.Capacity;
        lock (_lruLock)
        {
            if (page.InLru)
            {
                RemoveFromLruLocked(page);
            }

            _pageTable.Remove(page);
        }

        long after = Interlocked.Add(ref _totalBytes, -page.Buffer.Length);
        Debug.Assert(after >= 0, "the byte count never goes negative");

        // No reader can use the buffer through this zspage any more: a reader validates
        // IsFreed (set by now) after entering the guard, and nothing live is left in it.
        _recycler.Return(page.Buffer);
    }

    private void AddToFrontLocked(ZsPage page)
    {
        Debug.Assert(!page.InLru && page.LruPrev is null && page.LruNext is null, "not on the LRU");
        page.LruNext = _lruHead;
        if (_lruHead is not null)
        {
            _lruHead.LruPrev = page;
        }

        _lruHead = page;
        _lruTail ??= page;
        page.InLru = true;
    }

    private void RemoveFromLruLocked(ZsPage page)
    {
        Debug.Assert(page.InLru, "on the LRU");
        if (page.LruPrev is { } prev)
        {
            prev.LruNext = page.LruNext;
        }
        else
        {
            _lruHead = page.LruNext;
        }

        if (page.LruNext is { } next)
        {
            next.LruPrev = page.LruPrev;
        }
        else
        {
            _lruTail = page.LruPrev;
        }

        page.LruPrev = null;
        page.LruNext = null;
        page.InLru = false;
    }

    private void MoveToFrontLocked(ZsPage page)
    {
        if (_lruHead == page)
        {
            return;
        }

        RemoveFromLruLocked(page);
        AddToFrontLocked(page);
    }
}
