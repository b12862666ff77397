using System.Diagnostics;

namespace ZsCache.Pool;

/// <summary>
/// A zspage: one contiguous pinned buffer of <see cref="Pages"/> × 4 KiB carved into
/// <see cref="Capacity"/> equal slots of <see cref="SlotSize"/> bytes. Unlike the kernel's
/// chain of discontiguous pages, nothing straddles a page boundary, so an object is always a
/// plain span of the buffer and needs no map/unmap copy.
/// </summary>
/// <remarks>
/// <para>The buffer is allocated on the pinned object heap: the GC never moves it and, being
/// a <c>byte[]</c>, never scans its contents. A freed zspage's buffer is simply dropped.</para>
/// <para>Slot bookkeeping lives outside the buffer in <see cref="_slots"/> (4 bytes a slot):
/// a live slot records its object's handle index (the kernel stores the handle in the
/// object's head; keeping it out of band means the caller can never overwrite it), a free
/// slot holds the link of the zspage's free list (<c>-(next + 2)</c>, so -1 ends the list).</para>
/// <para>Every field except the immutable ones and <see cref="Guard"/> is owned by the
/// class lock of <see cref="Class"/> (LRU fields: by the pool's LRU lock).</para>
/// </remarks>
internal sealed class ZsPage
{
    private readonly int[] _slots;
    private int _freeHead;

    /// <summary>Creates a zspage with all slots free.</summary>
    public ZsPage(ZsSizeClass sizeClass, int id, byte[] buffer, int slotSize, int capacity)
    {
        Debug.Assert(buffer.Length % ZsPool.PageSize == 0, "a zspage is whole pages");
        Debug.Assert((long)slotSize * capacity <= buffer.Length, "slots fit the buffer");
        Debug.Assert(capacity >= 1 && capacity < (1 << ZsSizeClassGeometry.SlotBits), "slot index fits its bits");
        Class = sizeClass;
        Id = id;
        Buffer = buffer;
        SlotSize = slotSize;
        Capacity = capacity;
        _slots = new int[capacity];
        for (int i = 0; i < capacity; i++)
        {
            _slots[i] = EncodeFree(i + 1 < capacity ? i + 1 : -1);
        }

        _freeHead = 0;
    }

    /// <summary>The class this zspage belongs to for its whole life.</summary>
    public ZsSizeClass Class { get; }

    /// <summary>Id in the pool's zspage table (≥ 1); part of every object location.</summary>
    public int Id { get; }

    /// <summary>The object memory.</summary>
    public byte[] Buffer { get; }

    /// <summary>Bytes per slot.</summary>
    public int SlotSize { get; }

    /// <summary>Slots in this zspage.</summary>
    public int Capacity { get; }

    /// <summary>4 KiB pages in this zspage.</summary>
    public int Pages => Buffer.Length / ZsPool.PageSize;

    /// <summary>Live objects.</summary>
    public int InUse { get; private set; }

    /// <summary>True when no slot is free.</summary>
    public bool IsFull => InUse == Capacity;

    /// <summary>The migrate lock (see <see cref="ZsMigrateLock"/>). A field so it is used in place.</summary>
    public ZsMigrateLock Guard;

    /// <summary>Set once the zspage has been released; readers that reach it through a stale
    /// location see it and retry. Written under the class lock, read lock-free.</summary>
    public volatile bool IsFreed;

    /// <summary>Fullness group, or -1 while off every fullness list (being reclaimed, being
    /// compacted, or freed).</summary>
    public int Fullness = -1;

    /// <summary>Fullness-list neighbours.</summary>
    public ZsPage? FullnessPrev, FullnessNext;

    /// <summary>LRU neighbours (pool LRU lock).</summary>
    public ZsPage? LruPrev, LruNext;

    /// <summary>On the pool's LRU (pool LRU lock).</summary>
    public bool InLru;

    /// <summary>Being reclaimed: off its fullness list and the LRU; frees of its objects defer
    /// their handles and it is not freed when it empties (the patch's <c>under_reclaim</c>).</summary>
    public bool UnderReclaim;

    /// <summary>Handle indices whose objects were freed while reclaiming (the patch's
    /// <c>deferred_handles</c>): released for reuse only when reclaim ends.</summary>
    public List<int>? DeferredHandles;

    /// <summary>Byte offset of slot <paramref name="slot"/> in <see cref="Buffer"/>.</summary>
    public int OffsetOf(int slot) => slot * SlotSize;

    /// <summary>The handle index recorded in a slot, or -1 if the slot is free.</summary>
    public int HandleAt(int slot) => _slots[slot] >= 0 ? _slots[slot] : -1;

    /// <summary>Takes a free slot for the object of <paramref name="handleIndex"/>.</summary>
    public int AllocateSlot(int handleIndex)
    {
        Debug.Assert(handleIndex >= 0, "handle indices are non-negative");
        Debug.Assert(_freeHead >= 0 && InUse < Capacity, "allocation only from a non-full zspage");
        int slot = _freeHead;
        _freeHead = DecodeFree(_slots[slot]);
        _slots[slot] = handleIndex;
        InUse++;
        return slot;
    }

    /// <summary>Returns a live slot to the free list.</summary>
    public void FreeSlot(int slot)
    {
        Debug.Assert(_slots[slot] >= 0, "freeing a live slot");
        _slots[slot] = EncodeFree(_freeHead);
        _freeHead = slot;
        InUse--;
        Debug.Assert(InUse >= 0, "in-use count never negative");
    }

    /// <summary>Appends the handle indices of the live objects, in slot order.</summary>
    public void CollectLiveHandleIndices(List<int> into)
    {
        for (int slot = 0; slot < _slots.Length; slot++)
        {
            if (_slots[slot] >= 0)
            {
                into.Add(_slots[slot]);
            }
        }
    }

    /// <summary>Checks the slot bookkeeping (for tests and debug assertions).</summary>
    public void CheckSlots()
    {
        int live = 0;
        int free = 0;
        for (int slot = _freeHead; slot >= 0; slot = DecodeFree(_slots[slot]))
        {
            if (_slots[slot] >= 0 || ++free > Capacity)
            {
                throw new InvalidOperationException($"zspage {Id}: free list is corrupt");
            }
        }

        foreach (int value in _slots)
        {
            if (value >= 0)
            {
                live++;
            }
        }

        if (live != InUse || live + free != Capacity)
        {
            throw new InvalidOperationException($"zspage {Id}: {live} live + {free} free slots, expected {InUse} + {Capacity - InUse}");
        }
    }

    private static int EncodeFree(int next) => -(next + 2);

    private static int DecodeFree(int value) => -value - 2;
}
