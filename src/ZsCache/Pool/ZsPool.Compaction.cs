using System.Diagnostics;

namespace ZsCache.Pool;

/// <summary>Compaction: the port of <c>zs_compact</c>.</summary>
internal sealed partial class ZsPool
{
    // 1 while a Compact runs: as the kernel's compaction_in_progress, a second caller
    // returns at once instead of contending for the same class locks.
    private int _compacting;

    /// <summary>
    /// Compacts every size class, largest first, as <c>zs_compact</c>. Per class, while whole
    /// zspages' worth of slots are free (<c>zs_can_compact</c>):
    /// <list type="number">
    /// <item>Pick the densest non-full zspage as destination and the sparsest other one as
    /// source (zspages under reclaim are on no list, so never either).</item>
    /// <item>Under the source's migrate write lock, copy its objects one by one into the
    /// destination, repointing each handle at its new slot, until the source is empty or
    /// the destination full.</item>
    /// <item>Free the source if it emptied; refile both by fullness.</item>
    /// </list>
    /// The class lock is taken per source zspage, so allocation in a class waits for at most
    /// one zspage's move. Handles stay valid; readers wait for the move or see the new slot.
    /// </summary>
    public ZsCompactionResult Compact()
    {
        ThrowIfDisposed();
        if (Interlocked.Exchange(ref _compacting, 1) != 0)
        {
            return default;
        }

        try
        {
            int pagesFreed = 0;
            long moved = 0;
            for (int i = _classes.Length - 1; i >= 0; i--)
            {
                if (!_classes[i].IsLarge)
                {
                    CompactClass(_classes[i], ref pagesFreed, ref moved);
                }
            }

            Interlocked.Add(ref _pagesCompacted, pagesFreed);
            Interlocked.Add(ref _objectsMoved, moved);
            return new ZsCompactionResult(pagesFreed, moved);
        }
        finally
        {
            Volatile.Write(ref _compacting, 0);
        }
    }

    private void CompactClass(ZsSizeClass cls, ref int pagesFreed, ref long moved)
    {
        // Terminates: each round empties the source or fills the destination, so the number
        // of non-full listed zspages drops by at least one.
        while (true)
        {
            lock (cls.Lock)
            {
                if (cls.FreeablePages == 0 || _disposed)
                {
                    return;
                }

                ZsPage? dst = cls.FullestNonFull();
                ZsPage? src = dst is null ? null : cls.Sparsest(except: dst);
                if (dst is null || src is null)
                {
                    return;
                }

                moved += MigrateLocked(src, dst);
                if (src.InUse == 0)
                {
                    cls.Remove(src);
                    ReleaseZspageLocked(cls, src);
                    pagesFreed += src.Pages;
                }
                else
                {
                    cls.Refresh(src);
                }

                cls.Refresh(dst);
            }
        }
    }

    // migrate_zspage: moves live objects of src into dst until src is empty or dst full.
    // Class lock held. Only src needs its write lock: dst's new slots are unreachable until
    // each handle is repointed, and its other objects are untouched.
    private long MigrateLocked(ZsPage src, ZsPage dst)
    {
        Debug.Assert(src != dst && src.Class == dst.Class && !src.UnderReclaim && !dst.UnderReclaim, "two listed zspages of one class");
        long moved = 0;
        src.Guard.EnterWrite();
        for (int slot = 0; slot < src.Capacity && src.InUse > 0 && !dst.IsFull; slot++)
        {
            int index = src.HandleAt(slot);
            if (index < 0)
            {
                continue;
            }

            ref ZsHandleTable.Entry entry = ref _handles.GetEntry(index);
            Debug.Assert(Volatile.Read(ref entry.Location) == Pack(src.Id, slot), "the slot's handle points back at it");
            int length = entry.Length;
            int target = dst.AllocateSlot(index);
            src.Buffer.AsSpan(src.OffsetOf(slot), length).CopyTo(dst.Buffer.AsSpan(dst.OffsetOf(target), length));

            // Publish after the copy: whoever sees the new location sees the bytes.
            Volatile.Write(ref entry.Location, Pack(dst.Id, target));
            src.FreeSlot(slot);
            moved++;
        }

        if (src.InUse == 0)
        {
            src.IsFreed = true;
        }

        src.Guard.ExitWrite();
        return moved;
    }
}
