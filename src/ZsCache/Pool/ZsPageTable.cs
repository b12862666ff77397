using System.Diagnostics;

namespace ZsCache.Pool;

/// <summary>
/// Zspage id → zspage, so an object location can be a number (stored in the handle table
/// without a GC reference per object). Segmented like the handle table: segments are never
/// moved, lookups are lock-free, and only the directory is replaced when it grows.
/// Mutations happen under the pool's LRU lock.
/// </summary>
internal sealed class ZsPageTable
{
    /// <summary>1024 references (8 KiB) per segment: a 256 MiB pool of 64 KiB zspages needs 4.</summary>
    private const int SegmentShift = 10;

    private const int SegmentSize = 1 << SegmentShift;

    private const int SegmentMask = SegmentSize - 1;

    private ZsPage?[]?[] _segments = new ZsPage?[]?[16];
    private readonly Stack<int> _freeIds = new();

    // Id 0 is never used, so a location of 0 means "no object".
    private int _next = 1;

    /// <summary>Zspages currently registered.</summary>
    public int Count { get; private set; }

    /// <summary>Takes an unused id. Caller holds the pool's LRU lock.</summary>
    public int AllocateId()
    {
        if (_freeIds.TryPop(out int id))
        {
            return id;
        }

        id = _next;
        if (id == int.MaxValue)
        {
            throw new ZsPoolException("The pool's zspage table is full.");
        }

        int segment = id >> SegmentShift;
        if (segment >= _segments.Length)
        {
            var bigger = new ZsPage?[]?[_segments.Length * 2];
            Array.Copy(_segments, bigger, _segments.Length);
            Volatile.Write(ref _segments, bigger);
        }

        if (_segments[segment] is null)
        {
            Volatile.Write(ref _segments[segment], new ZsPage?[SegmentSize]);
        }

        _next = id + 1;
        return id;
    }

    /// <summary>Publishes a zspage under its id. Caller holds the pool's LRU lock.</summary>
    public void Set(ZsPage page)
    {
        ref ZsPage? slot = ref _segments[page.Id >> SegmentShift]![page.Id & SegmentMask];
        Debug.Assert(slot is null, "id not in use");
        Volatile.Write(ref slot, page);
        Count++;
    }

    /// <summary>Unpublishes a zspage and frees its id. Caller holds the pool's LRU lock.</summary>
    public void Remove(ZsPage page)
    {
        ref ZsPage? slot = ref _segments[page.Id >> SegmentShift]![page.Id & SegmentMask];
        Debug.Assert(slot == page, "removing the registered zspage");
        Volatile.Write(ref slot, null);
        _freeIds.Push(page.Id);
        Count--;
    }

    /// <summary>The zspage with this id, or null. Lock-free; the answer may be stale.</summary>
    public ZsPage? Get(int id)
    {
        ZsPage?[]?[] segments = Volatile.Read(ref _segments);
        int segment = id >> SegmentShift;
        if ((uint)segment >= (uint)segments.Length || Volatile.Read(ref segments[segment]) is not { } pages)
        {
            return null;
        }

        return Volatile.Read(ref pages[id & SegmentMask]);
    }

    /// <summary>All registered zspages. Caller holds the pool's LRU lock.</summary>
    public List<ZsPage> Snapshot()
    {
        var all = new List<ZsPage>(Count);
        foreach (ZsPage?[]? segment in _segments)
        {
            if (segment is null)
            {
                continue;
            }

            foreach (ZsPage? page in segment)
            {
                if (page is not null)
                {
                    all.Add(page);
                }
            }
        }

        return all;
    }

    /// <summary>Approximate managed bytes held by the table.</summary>
    public long ApproximateBytes => (_segments.Length * 8L) + (((_next + SegmentSize - 1) >> SegmentShift) * SegmentSize * 8L);
}
