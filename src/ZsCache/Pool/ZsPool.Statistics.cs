namespace ZsCache.Pool;

/// <summary>Statistics and consistency checks.</summary>
internal sealed partial class ZsPool
{
    /// <summary>
    /// The per-class table (distinct classes only, as debugfs skips merged ones; empty
    /// classes included) and the pool totals.
    /// </summary>
    public ZsPoolStatistics GetStatistics()
    {
        ThrowIfDisposed();
        var rows = new List<ZsClassStatistics>(_classes.Length);
        long zspages = 0, pages = 0, objects = 0, live = 0, freeable = 0, slotBytes = 0;
        foreach (ZsSizeClass cls in _classes)
        {
            lock (cls.Lock)
            {
                rows.Add(new ZsClassStatistics(
                    cls.Index,
                    cls.Size,
                    cls.ObjsAllocated,
                    cls.ObjsUsed,
                    cls.Zspages,
                    cls.Pages,
                    cls.PagesPerZspage,
                    cls.ObjsPerZspage,
                    cls.FreeablePages,
                    cls.LiveBytes,
                    cls.IsHuge,
                    cls.IsLarge));
                zspages += cls.Zspages;
                pages += cls.Pages;
                objects += cls.ObjsUsed;
                live += cls.LiveBytes;
                freeable += cls.FreeablePages;
                slotBytes += cls.ObjsAllocated * sizeof(int);
            }
        }

        long tables;
        lock (_lruLock)
        {
            tables = _pageTable.ApproximateBytes;
        }

        // ~120 bytes per ZsPage object and its slot array's header (measured layout, rounded up).
        const int PerZspageObjectBytes = 120;
        long metadata = _handles.ApproximateBytes + tables + slotBytes + (zspages * PerZspageObjectBytes);

        return new ZsPoolStatistics
        {
            MaxBytes = MaxBytes,
            TotalBytes = TotalBytes,
            Pages = pages,
            Zspages = zspages,
            Objects = objects,
            LiveObjectBytes = live,
            FreeablePages = freeable,
            MetadataBytes = metadata,
            HugeClassSize = ZsSizeClassGeometry.HugeClassSize,
            AllocationFailures = Interlocked.Read(ref _allocationFailures),
            PagesCompacted = Interlocked.Read(ref _pagesCompacted),
            ObjectsMoved = Interlocked.Read(ref _objectsMoved),
            ReclaimsBegun = Interlocked.Read(ref _reclaimsBegun),
            ZspagesReclaimed = Interlocked.Read(ref _zspagesReclaimed),
            DeferredFrees = Interlocked.Read(ref _deferredFrees),
            Classes = rows,
        };
    }

    /// <summary>Id of the zspage holding the object now (diagnostics and tests).</summary>
    internal int ZspageIdOf(ZsHandle handle)
    {
        ThrowIfDisposed();
        ref ZsHandleTable.Entry entry = ref _handles.Find(handle);
        return IdOf(ReadLiveLocation(ref entry, handle));
    }

    /// <summary>Zspage ids on the LRU, most recently used first (diagnostics and tests).</summary>
    internal IReadOnlyList<int> LruSnapshot()
    {
        var ids = new List<int>();
        lock (_lruLock)
        {
            for (ZsPage? p = _lruHead; p is not null; p = p.LruNext)
            {
                ids.Add(p.Id);
            }
        }

        return ids;
    }

    /// <summary>
    /// Verifies every structural invariant and throws <see cref="InvalidOperationException"/>
    /// naming the first one broken. For tests; call only while no other thread uses the pool.
    /// </summary>
    internal void CheckInvariants()
    {
        List<ZsPage> all;
        var lruOrder = new List<ZsPage>();
        lock (_lruLock)
        {
            all = _pageTable.Snapshot();
            for (ZsPage? p = _lruHead; p is not null; p = p.LruNext)
            {
                if (!p.InLru || (p.LruNext is null && p != _lruTail) || (p.LruNext is { } n && n.LruPrev != p))
                {
                    throw new InvalidOperationException("LRU links are corrupt");
                }

                lruOrder.Add(p);
                if (lruOrder.Count > all.Count)
                {
                    throw new InvalidOperationException("LRU holds more zspages than the table");
                }
            }
        }

        long bytes = 0;
        ILookup<ZsSizeClass, ZsPage> byClass = all.ToLookup(p => p.Class);
        foreach (ZsSizeClass cls in _classes)
        {
            lock (cls.Lock)
            {
                long zspages = 0, pages = 0, allocated = 0, used = 0, live = 0;
                var listed = new HashSet<ZsPage>();
                for (int group = 0; group < ZsSizeClass.FullnessGroups; group++)
                {
                    for (ZsPage? p = cls.HeadOf(group); p is not null; p = p.FullnessNext)
                    {
                        if (p.Fullness != group || ZsSizeClass.FullnessOf(p.InUse, p.Capacity) != group || p.Class != cls)
                        {
                            throw new InvalidOperationException($"zspage {p.Id} is on fullness list {group} of class {cls.Index} but belongs elsewhere");
                        }

                        if (!listed.Add(p))
                        {
                            throw new InvalidOperationException($"zspage {p.Id} is listed twice");
                        }
                    }
                }

                foreach (ZsPage p in byClass[cls])
                {
                    p.CheckSlots();
                    if (p.IsFreed || p.InUse == 0 && !p.UnderReclaim)
                    {
                        throw new InvalidOperationException($"zspage {p.Id} is registered but freed or empty");
                    }

                    if (p.UnderReclaim == (listed.Contains(p) || p.InLru))
                    {
                        throw new InvalidOperationException($"zspage {p.Id}: under reclaim = {p.UnderReclaim} but listed = {listed.Contains(p)}, on LRU = {p.InLru}");
                    }

                    zspages++;
                    pages += p.Pages;
                    allocated += p.Capacity;
                    used += p.InUse;
                    bytes += p.Buffer.Length;
                    for (int slot = 0; slot < p.Capacity; slot++)
                    {
                        int index = p.HandleAt(slot);
                        if (index < 0)
                        {
                            continue;
                        }

                        ref ZsHandleTable.Entry entry = ref _handles.GetEntry(index);
                        if (entry.Location != Pack(p.Id, slot) || entry.Length < 1 || entry.Length > p.SlotSize)
                        {
                            throw new InvalidOperationException($"handle #{index} does not point back at zspage {p.Id} slot {slot}");
                        }

                        live += entry.Length;
                    }
                }

                if (listed.Count > zspages || zspages != cls.Zspages || pages != cls.Pages || allocated != cls.ObjsAllocated || used != cls.ObjsUsed || live != cls.LiveBytes)
                {
                    throw new InvalidOperationException($"class {cls.Index} counters disagree with its zspages");
                }
            }
        }

        if (bytes != TotalBytes || bytes > MaxBytes)
        {
            throw new InvalidOperationException($"zspages hold {bytes} bytes; TotalBytes = {TotalBytes}, MaxBytes = {MaxBytes}");
        }
    }
}
