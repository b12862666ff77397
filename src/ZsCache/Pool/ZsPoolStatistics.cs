namespace ZsCache.Pool;

/// <summary>
/// One row of the per-class table zsmalloc shows in debugfs (<c>/sys/kernel/debug/zsmalloc/*/classes</c>).
/// </summary>
/// <param name="Index">Class index (of the largest size merged into it); the large class is
/// <see cref="ZsSizeClassGeometry.ClassCount"/>.</param>
/// <param name="Size">Slot size in bytes; 0 for the large class (per-zspage sizes).</param>
/// <param name="ObjectsAllocated">Slots in the class's zspages (obj_allocated).</param>
/// <param name="ObjectsUsed">Live objects (obj_used).</param>
/// <param name="Zspages">Zspages of the class, including any under reclaim.</param>
/// <param name="PagesUsed">4 KiB pages those zspages hold (pages_used).</param>
/// <param name="PagesPerZspage">Pages per zspage (pages_per_zspage); 0 for the large class.</param>
/// <param name="ObjectsPerZspage">Slots per zspage.</param>
/// <param name="FreeablePages">Pages compaction could free now (freeable, <c>zs_can_compact</c>).</param>
/// <param name="LiveBytes">Sum of the live objects' requested lengths.</param>
/// <param name="IsHuge">One object per zspage.</param>
/// <param name="IsLarge">The class of objects above every size class.</param>
internal sealed record ZsClassStatistics(
    int Index,
    int Size,
    long ObjectsAllocated,
    long ObjectsUsed,
    long Zspages,
    long PagesUsed,
    int PagesPerZspage,
    int ObjectsPerZspage,
    long FreeablePages,
    long LiveBytes,
    bool IsHuge,
    bool IsLarge);

/// <summary>Pool totals plus the per-class table. Each class row is consistent in itself;
/// rows are taken one class lock at a time, so under load the totals are a close sum.</summary>
internal sealed record ZsPoolStatistics
{
    /// <summary>The pool's hard limit on zspage memory.</summary>
    public required long MaxBytes { get; init; }

    /// <summary>Zspage memory held (what the limit counts).</summary>
    public required long TotalBytes { get; init; }

    /// <summary>4 KiB pages held.</summary>
    public required long Pages { get; init; }

    /// <summary>Zspages held.</summary>
    public required long Zspages { get; init; }

    /// <summary>Live objects.</summary>
    public required long Objects { get; init; }

    /// <summary>Sum of the live objects' requested lengths.</summary>
    public required long LiveObjectBytes { get; init; }

    /// <summary>Pages compaction could free now (sum of the classes' freeable pages).</summary>
    public required long FreeablePages { get; init; }

    /// <summary>Approximate managed memory of the bookkeeping (handle table, zspage table,
    /// slot arrays, zspage objects), which the byte limit does not count.</summary>
    public required long MetadataBytes { get; init; }

    /// <summary>Smallest object size that gets a zspage to itself (the kernel's
    /// <c>zs_huge_class_size</c>).</summary>
    public required int HugeClassSize { get; init; }

    /// <summary>Allocations refused because they would have passed <see cref="MaxBytes"/>.</summary>
    public required long AllocationFailures { get; init; }

    /// <summary>Pages freed by compaction since the pool was created (pages_compacted).</summary>
    public required long PagesCompacted { get; init; }

    /// <summary>Objects moved by compaction since the pool was created.</summary>
    public required long ObjectsMoved { get; init; }

    /// <summary>Reclaims begun since the pool was created.</summary>
    public required long ReclaimsBegun { get; init; }

    /// <summary>Zspages freed by ending a reclaim.</summary>
    public required long ZspagesReclaimed { get; init; }

    /// <summary>Frees that hit a zspage under reclaim and had their handle deferred.</summary>
    public required long DeferredFrees { get; init; }

    /// <summary>Pool bytes per live object byte (1.0 = no waste); 0 for an empty pool.</summary>
    public double Overhead => LiveObjectBytes == 0 ? 0 : (double)TotalBytes / LiveObjectBytes;

    /// <summary>The distinct size classes, smallest first, then the large class.</summary>
    public required IReadOnlyList<ZsClassStatistics> Classes { get; init; }
}
