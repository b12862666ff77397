using System.Diagnostics;
using System.Numerics;

namespace ZsCache.Pool;

/// <summary>
/// The size-class table, computed the way <c>zs_create_pool</c> computes it, once per process
/// (it depends only on constants). Deviations from the kernel are marked DEVIATION.
/// </summary>
/// <remarks>
/// Steps, as in mm/zsmalloc.c:
/// <list type="number">
/// <item>Class <c>i</c> has size <c>MinAllocSize + i × ClassDelta</c>.</item>
/// <item>Its zspage chain length is the page count (up to <see cref="MaxPagesPerZspage"/>)
/// whose tail waste <c>(pages × PageSize) mod size</c> is least, the shortest on a tie
/// (<c>calculate_zspage_chain_size</c>); a power-of-two size wastes nothing with the fewest
/// pages that hold it.</item>
/// <item>Walking from the largest class down, a class whose (pages per zspage, objects per
/// zspage) equals the previous kept class's is merged into it (<c>can_merge</c>): its objects
/// go to the larger slots, which costs no memory because a zspage of either geometry holds
/// the same number of objects in the same number of pages.</item>
/// </list>
/// </remarks>
internal static class ZsSizeClassGeometry
{
    /// <summary>Bytes in one page of a zspage. DEVIATION: fixed at 4096 rather than the
    /// machine's page size, since our "pages" are slices of a managed buffer, not MMU pages;
    /// 4 KiB keeps the class geometry identical to the kernel's on x86-64 and arm64-4K.</summary>
    public const int PageSize = 4096;

    /// <summary>log2(<see cref="PageSize"/>).</summary>
    public const int PageShift = 12;

    /// <summary>Longest zspage chain, in pages. DEVIATION: the kernel's default is 8
    /// (CONFIG_ZSMALLOC_CHAIN_SIZE, configurable up to 16); we take 16 because our classes go
    /// up to 16 KiB, and a 16 KiB chain (4 pages) would otherwise leave the classes between
    /// 8 and 16 KiB with one object per zspage and up to half a zspage wasted.</summary>
    public const int MaxPagesPerZspage = 16;

    /// <summary>Bits of a location that hold the slot index: enough for the most objects a
    /// zspage can hold, <c>MaxPagesPerZspage × PageSize / MinAllocSize</c> = 2048 &lt; 4096.</summary>
    public const int SlotBits = 12;

    /// <summary>Smallest class size. As the kernel's ZS_MIN_ALLOC_SIZE: max(32, the size
    /// for which a longest zspage would hold more objects than <see cref="SlotBits"/> can
    /// index), which is 32 here (65536 &gt;&gt; 12 = 16).</summary>
    public const int MinAllocSize = 32;

    /// <summary>Step between class sizes: <c>PageSize &gt;&gt; 8</c> = 16, the kernel's
    /// ZS_SIZE_CLASS_DELTA (CLASS_BITS = 8), so an object wastes at most 15 bytes to rounding.</summary>
    public const int ClassDelta = PageSize >> 8;

    /// <summary>Largest class size. DEVIATION: the kernel stops at PAGE_SIZE because swap
    /// pages are never bigger; web values are, and a 5 KB object stored page-granular
    /// (two pages) would waste ~40%, so classes continue up to 16 KiB.</summary>
    public const int MaxClassSize = 16 * 1024;

    /// <summary>Number of class indices (before merging): (16384 − 32) / 16 + 1 = 1023.</summary>
    public const int ClassCount = ((MaxClassSize - MinAllocSize) / ClassDelta) + 1;

    /// <summary>Size of class index <paramref name="index"/> before merging.</summary>
    public static int SizeOfIndex(int index) => MinAllocSize + (index * ClassDelta);

    /// <summary>The class index for an object of <paramref name="size"/> bytes
    /// (<c>get_size_class_index</c>); <paramref name="size"/> must be ≤ <see cref="MaxClassSize"/>.</summary>
    public static int IndexOfSize(int size)
    {
        Debug.Assert(size >= 1 && size <= MaxClassSize, "only class-sized objects have a class index");
        return size <= MinAllocSize ? 0 : (size - MinAllocSize + ClassDelta - 1) / ClassDelta;
    }

    /// <summary>
    /// Pages per zspage for a class of <paramref name="classSize"/> bytes: the chain length
    /// (from the fewest pages that hold one object up to <see cref="MaxPagesPerZspage"/>)
    /// with the least tail waste, the shortest on a tie.
    /// </summary>
    public static int ChainSize(int classSize)
    {
        Debug.Assert(classSize >= MinAllocSize && classSize <= MaxPagesPerZspage * PageSize, "class size in range");

        // DEVIATION: the kernel starts at one page because its classes never exceed a page;
        // ours do, so the search starts at the fewest pages that hold one object.
        int minPages = (classSize + PageSize - 1) / PageSize;
        if (BitOperations.IsPow2(classSize))
        {
            // As the kernel: a power of two tiles its pages exactly, so the shortest chain wins.
            return minPages;
        }

        int best = minPages;
        int minWaste = int.MaxValue;
        for (int pages = minPages; pages <= MaxPagesPerZspage; pages++)
        {
            int waste = (pages * PageSize) % classSize;
            if (waste < minWaste)
            {
                minWaste = waste;
                best = pages;
            }
        }

        return best;
    }

    /// <summary>The computed table: one entry per class index, merged classes sharing the
    /// larger class's entry (whose <see cref="ClassGeometry.Index"/> differs from theirs).</summary>
    public static IReadOnlyList<ClassGeometry> ByIndex { get; } = Build();

    /// <summary>The distinct (unmerged) classes, smallest first.</summary>
    public static IReadOnlyList<ClassGeometry> Distinct { get; } =
        ByIndex.Where((g, i) => g.Index == i).ToArray();

    /// <summary>
    /// Smallest object size that lands in a huge class (one object per zspage), as the
    /// kernel's <c>zs_huge_class_size</c>. With our 16-page chains the huge classes are the
    /// page multiples (4, 8, 12 and 16 KiB) with the sizes merged into them, so sizes above
    /// this are not all huge (a 5 KiB object shares a 5-page zspage with three others).
    /// </summary>
    public static int HugeClassSize { get; } = ComputeHugeClassSize();

    private static ClassGeometry[] Build()
    {
        var table = new ClassGeometry[ClassCount];
        ClassGeometry? prev = null;

        // From the largest class down, so a class can merge into the next larger one.
        for (int i = ClassCount - 1; i >= 0; i--)
        {
            int size = SizeOfIndex(i);
            int pages = ChainSize(size);
            int objs = pages * PageSize / size;
            Debug.Assert(objs >= 1 && objs < (1 << SlotBits), "objects per zspage fit the slot bits");

            if (prev is not null && prev.PagesPerZspage == pages && prev.ObjsPerZspage == objs)
            {
                table[i] = prev;
                continue;
            }

            prev = new ClassGeometry(i, size, pages, objs);
            table[i] = prev;
        }

        return table;
    }

    private static int ComputeHugeClassSize()
    {
        // The smallest size whose class holds one object per zspage. Unlike the kernel's,
        // our huge classes are not one contiguous top range (4 KiB, 8 KiB, 12 KiB and 16 KiB
        // are powers-of-two-ish sizes that tile pages exactly), so a larger object is not
        // necessarily huge; this is where huge starts, as zs_huge_class_size reports.
        for (int i = 0; i < ClassCount; i++)
        {
            if (ByIndex[i].ObjsPerZspage == 1)
            {
                return i == 0 ? 1 : SizeOfIndex(i - 1) + 1;
            }
        }

        return MaxClassSize + 1;
    }

    /// <summary>Geometry of one distinct size class.</summary>
    /// <param name="Index">Class index (of the largest size merged into it).</param>
    /// <param name="Size">Slot size in bytes.</param>
    /// <param name="PagesPerZspage">Pages in one zspage of this class.</param>
    /// <param name="ObjsPerZspage">Slots in one zspage of this class.</param>
    internal sealed record ClassGeometry(int Index, int Size, int PagesPerZspage, int ObjsPerZspage)
    {
        /// <summary>One object per zspage: the kernel's "huge" class.</summary>
        public bool IsHuge => ObjsPerZspage == 1;
    }
}
