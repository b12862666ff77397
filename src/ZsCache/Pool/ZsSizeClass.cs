using System.Diagnostics;

namespace ZsCache.Pool;

/// <summary>
/// One size class of a pool: its lock, its fullness lists and its counters (the kernel's
/// <c>struct size_class</c>). The pool also has one "large" class for objects above
/// <see cref="ZsSizeClassGeometry.MaxClassSize"/>: each of its zspages holds a single object
/// in a buffer rounded up to whole pages.
/// </summary>
/// <remarks>
/// Fullness groups as the kernel's (ZS_INUSE_RATIO_0 … ZS_INUSE_RATIO_100): group 0 is empty,
/// 1..10 cover in-use ratios [0,10%) … [90,100%), 11 is full. Allocation takes from the
/// fullest non-full group, compaction moves objects from the sparsest into the densest.
/// All members are used under <see cref="Lock"/>.
/// </remarks>
internal sealed class ZsSizeClass
{
    /// <summary>Group of an empty zspage.</summary>
    public const int FullnessEmpty = 0;

    /// <summary>Group of a full zspage.</summary>
    public const int FullnessFull = 11;

    /// <summary>12 groups, as the kernel's NR_FULLNESS_GROUPS: fine enough that the sparsest
    /// and densest zspages are found by looking at list heads only.</summary>
    public const int FullnessGroups = 12;

    private readonly ZsPage?[] _heads = new ZsPage?[FullnessGroups];

    /// <summary>Creates a class with the given geometry.</summary>
    public ZsSizeClass(int index, int size, int pagesPerZspage, int objsPerZspage, bool isLarge)
    {
        Index = index;
        Size = size;
        PagesPerZspage = pagesPerZspage;
        ObjsPerZspage = objsPerZspage;
        IsLarge = isLarge;
    }

    /// <summary>The class lock: fullness lists, counters, slot bookkeeping of this class's
    /// zspages and the handle entries of its objects.</summary>
    public Lock Lock { get; } = new();

    /// <summary>Class index (of the largest size merged into it); the large class has
    /// <see cref="ZsSizeClassGeometry.ClassCount"/>.</summary>
    public int Index { get; }

    /// <summary>Slot size; 0 for the large class (each zspage its own size).</summary>
    public int Size { get; }

    /// <summary>Pages per zspage; 0 for the large class.</summary>
    public int PagesPerZspage { get; }

    /// <summary>Objects per zspage.</summary>
    public int ObjsPerZspage { get; }

    /// <summary>The class of objects larger than every size class.</summary>
    public bool IsLarge { get; }

    /// <summary>One object per zspage, as the kernel's huge class (the large class is too).</summary>
    public bool IsHuge => ObjsPerZspage == 1;

    /// <summary>Zspages of this class (including those under reclaim).</summary>
    public long Zspages { get; set; }

    /// <summary>Pages held by this class's zspages.</summary>
    public long Pages { get; set; }

    /// <summary>Slots in this class's zspages (ZS_OBJS_ALLOCATED).</summary>
    public long ObjsAllocated { get; set; }

    /// <summary>Live objects (ZS_OBJS_INUSE).</summary>
    public long ObjsUsed { get; set; }

    /// <summary>Sum of the live objects' requested lengths.</summary>
    public long LiveBytes { get; set; }

    /// <summary>
    /// Pages compaction could free (<c>zs_can_compact</c>): whole zspages' worth of free slots.
    /// </summary>
    public long FreeablePages
    {
        get
        {
            if (IsLarge || ObjsAllocated <= ObjsUsed)
            {
                return 0;
            }

            return (ObjsAllocated - ObjsUsed) / ObjsPerZspage * PagesPerZspage;
        }
    }

    /// <summary>The fullness group for a zspage with <paramref name="inUse"/> of <paramref name="capacity"/> slots used.</summary>
    public static int FullnessOf(int inUse, int capacity)
    {
        if (inUse == 0)
        {
            return FullnessEmpty;
        }

        if (inUse == capacity)
        {
            return FullnessFull;
        }

        // 1 + floor(10 × ratio): one object of 128 is group 1, not 0 (the kernel's comment).
        return 1 + (int)((long)inUse * 10 / capacity);
    }

    /// <summary>Head of a fullness list (for enumeration by checks).</summary>
    public ZsPage? HeadOf(int group) => _heads[group];

    /// <summary>Puts a zspage on the list of its current fullness (<c>putback_zspage</c>).</summary>
    public int Insert(ZsPage page)
    {
        Debug.Assert(page.Fullness == -1 && page.FullnessPrev is null && page.FullnessNext is null, "not on a list");
        Debug.Assert(!page.UnderReclaim && !page.IsFreed, "only live, unreclaimed zspages are listed");
        int group = FullnessOf(page.InUse, page.Capacity);
        ZsPage? head = _heads[group];
        page.FullnessNext = head;
        if (head is not null)
        {
            head.FullnessPrev = page;
        }

        _heads[group] = page;
        page.Fullness = group;
        return group;
    }

    /// <summary>Takes a zspage off its fullness list (<c>remove_zspage</c>).</summary>
    public void Remove(ZsPage page)
    {
        Debug.Assert(page.Fullness >= 0, "on a list");
        if (page.FullnessPrev is { } prev)
        {
            prev.FullnessNext = page.FullnessNext;
        }
        else
        {
            Debug.Assert(_heads[page.Fullness] == page, "list head");
            _heads[page.Fullness] = page.FullnessNext;
        }

        if (page.FullnessNext is { } next)
        {
            next.FullnessPrev = page.FullnessPrev;
        }

        page.FullnessPrev = null;
        page.FullnessNext = null;
        page.Fullness = -1;
    }

    /// <summary>Moves a listed zspage to the list of its current fullness (<c>fix_fullness_group</c>).</summary>
    public void Refresh(ZsPage page)
    {
        int group = FullnessOf(page.InUse, page.Capacity);
        if (page.Fullness != group)
        {
            Remove(page);
            Insert(page);
        }
    }

    /// <summary>The fullest zspage with a free slot, or null: allocation packs objects
    /// densely so sparse zspages can drain and be freed.</summary>
    public ZsPage? FullestNonFull()
    {
        for (int group = FullnessFull - 1; group > FullnessEmpty; group--)
        {
            if (_heads[group] is { } page)
            {
                return page;
            }
        }

        return null;
    }

    /// <summary>The sparsest non-empty zspage other than <paramref name="except"/>
    /// (compaction's source, <c>isolate_src_zspage</c>).</summary>
    public ZsPage? Sparsest(ZsPage? except)
    {
        for (int group = FullnessEmpty + 1; group < FullnessFull; group++)
        {
            for (ZsPage? page = _heads[group]; page is not null; page = page.FullnessNext)
            {
                if (page != except)
                {
                    return page;
                }
            }
        }

        return null;
    }
}
