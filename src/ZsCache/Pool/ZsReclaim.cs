namespace ZsCache.Pool;

/// <summary>
/// One zspage being reclaimed, between <see cref="ZsPool.TryBeginReclaim"/> and
/// <see cref="ZsPool.EndReclaim"/>: the port of one pass of <c>zs_reclaim_page</c>, split so
/// the caller can write the objects back asynchronously in between.
/// </summary>
/// <remarks>
/// While a reclaim is open its zspage is off its fullness list and off the LRU, so no
/// allocation lands in it and compaction neither fills nor drains it. Its objects can still
/// be read, written and freed; a free releases the slot at once but keeps the handle index
/// out of reuse until the reclaim ends (the patch's deferred handles), so a handle in
/// <see cref="Handles"/> can never come to mean a newer object.
/// </remarks>
internal sealed class ZsReclaim
{
    internal ZsReclaim(ZsPool pool, ZsPage zspage, ZsHandle[] handles)
    {
        Pool = pool;
        Zspage = zspage;
        Handles = handles;
    }

    /// <summary>The live objects of the zspage when the reclaim began, in slot order.
    /// Some may be freed since (by the caller's writeback or by a racing free).</summary>
    public IReadOnlyList<ZsHandle> Handles { get; }

    /// <summary>Pages of the zspage (what freeing it gives back).</summary>
    public int Pages => Zspage.Pages;

    /// <summary>Bytes of the zspage (what freeing it gives back).</summary>
    public int Bytes => Zspage.Buffer.Length;

    /// <summary>Index of the zspage's size class (the large class has <see cref="ZsSizeClassGeometry.ClassCount"/>).</summary>
    public int ClassIndex => Zspage.Class.Index;

    /// <summary>True once <see cref="ZsPool.EndReclaim"/> has run for it.</summary>
    public bool IsEnded { get; internal set; }

    internal ZsPool Pool { get; }

    internal ZsPage Zspage { get; }
}
