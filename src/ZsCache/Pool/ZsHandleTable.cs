using System.Diagnostics;
using System.Runtime.InteropServices;

namespace ZsCache.Pool;

/// <summary>
/// The handle table: handle index → (location, generation, length). The kernel keeps a
/// handle as a slab word holding the object's encoded location; this is the same
/// indirection, plus a generation so a stale handle is caught.
/// </summary>
/// <remarks>
/// <para>Segmented: entries live in fixed-size segments that are allocated once and never
/// moved or copied, so a reader finds its entry with two array loads and no lock. Only the
/// small directory of segment references is replaced (copied) when it grows.</para>
/// <para>Who writes an entry: <see cref="Entry.Location"/> and <see cref="Entry.Generation"/>
/// change only under the class lock of the object's class and, for an object already
/// published, under the write side of its zspage's migrate lock as well. That is what lets a
/// reader holding the zspage's read side trust them.</para>
/// <para>Index allocation (the free list and growth) is under a leaf lock of its own.</para>
/// </remarks>
internal sealed class ZsHandleTable
{
    /// <summary>Entries per segment: 4096 × 16 B = 64 KiB, under the 85,000-byte large-object
    /// threshold (segments stay ordinary, compactable gen-2 arrays) and large enough that a
    /// million handles need only 245 segments.</summary>
    private const int SegmentShift = 12;

    private const int SegmentSize = 1 << SegmentShift;

    private const int SegmentMask = SegmentSize - 1;

    /// <summary>Most handles: indices are stored as index+1 in 32 bits and must stay positive.</summary>
    private const int MaxHandles = int.MaxValue - SegmentSize;

    private readonly Lock _lock = new();

    // Replaced wholesale (under _lock) when it grows; read lock-free.
    private Entry[]?[] _segments = new Entry[]?[16];

    // Released indices, reused LIFO (a warm entry is likely cached).
    private int[] _free = new int[64];
    private int _freeCount;

    // Indices below this have been handed out at least once (their segment exists).
    private int _next;

    /// <summary>One handle's state.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct Entry
    {
        /// <summary>Packed (zspage id, slot) of the live object; 0 while the index is free.</summary>
        public ulong Location;

        /// <summary>Generation of the current (or, while free, the next) object.</summary>
        public uint Generation;

        /// <summary>Length the object was allocated with.</summary>
        public int Length;
    }

    /// <summary>Number of indices ever handed out (the table's high-water mark).</summary>
    public int Capacity => Volatile.Read(ref _next);

    /// <summary>Approximate managed bytes the table holds.</summary>
    public long ApproximateBytes
    {
        get
        {
            lock (_lock)
            {
                long segments = (_next + SegmentSize - 1) >> SegmentShift;
                return (segments * SegmentSize * 16) + (_segments.Length * 8L) + (_free.Length * 4L);
            }
        }
    }

    /// <summary>Takes a free index (its entry's generation is the one the new handle gets).</summary>
    public int Allocate()
    {
        lock (_lock)
        {
            if (_freeCount > 0)
            {
                return _free[--_freeCount];
            }

            int index = _next;
            if (index >= MaxHandles)
            {
                throw new ZsPoolException("The pool's handle table is full.");
            }

            int segment = index >> SegmentShift;
            if (segment >= _segments.Length)
            {
                var bigger = new Entry[]?[_segments.Length * 2];
                Array.Copy(_segments, bigger, _segments.Length);
                Volatile.Write(ref _segments, bigger);
            }

            if (_segments[segment] is null)
            {
                Volatile.Write(ref _segments[segment], new Entry[SegmentSize]);
            }

            _next = index + 1;
            return index;
        }
    }

    /// <summary>Returns indices to the free list (after their entries were cleared).</summary>
    public void Release(ReadOnlySpan<int> indices)
    {
        if (indices.IsEmpty)
        {
            return;
        }

        lock (_lock)
        {
            if (_freeCount + indices.Length > _free.Length)
            {
                Array.Resize(ref _free, Math.Max(_free.Length * 2, _freeCount + indices.Length));
            }

            foreach (int index in indices)
            {
                Debug.Assert(index >= 0 && index < _next, "released index was issued");
                Debug.Assert(Volatile.Read(ref GetEntry(index).Location) == 0, "released entry is cleared");
                _free[_freeCount++] = index;
            }
        }
    }

    /// <summary>Returns one index to the free list.</summary>
    public void Release(int index) => Release([index]);

    /// <summary>
    /// The entry of an index known to have been issued (the caller got it from
    /// <see cref="Allocate"/> or from a zspage slot).
    /// </summary>
    public ref Entry GetEntry(int index)
    {
        Entry[]? segment = Volatile.Read(ref _segments)[index >> SegmentShift];
        Debug.Assert(segment is not null, "issued indices have a segment");
        return ref segment![index & SegmentMask];
    }

    /// <summary>
    /// The entry for a handle from outside, or a <see cref="ZsPoolException"/> if the pool
    /// never issued its index. Lock-free.
    /// </summary>
    public ref Entry Find(ZsHandle handle)
    {
        if (handle.IsNull)
        {
            throw new ZsPoolException("The handle is null.");
        }

        int index = handle.Index;
        Entry[]?[] segments = Volatile.Read(ref _segments);
        int segment = index >> SegmentShift;
        if (index < 0 || segment >= segments.Length || Volatile.Read(ref segments[segment]) is not { } entries)
        {
            throw new ZsPoolException($"{handle} was not issued by this pool.");
        }

        return ref entries[index & SegmentMask];
    }
}
