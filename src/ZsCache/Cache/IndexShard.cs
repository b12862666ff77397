using System.Diagnostics;
using ZsCache.Pool;

namespace ZsCache.Cache;

/// <summary>
/// One stripe of the key index: a chained hash table whose entries are structs in one array and
/// whose chains are indexes into it, so the GC sees three arrays per shard whatever the count.
/// Every member must be called with <see cref="Lock"/> held; the cache takes it.
/// </summary>
/// <remarks>
/// Lock ordering: a shard lock is taken before any pool lock and never while holding another
/// shard's lock. The pool never calls back into the cache with its locks held, except the read
/// callbacks, which only compare and copy bytes.
/// </remarks>
internal sealed class IndexShard
{
    private const int InitialCapacity = 16;

    public readonly Lock Lock = new();

    private int[] _buckets = new int[InitialCapacity];
    private IndexEntry[] _entries = new IndexEntry[InitialCapacity];
    private int _used;
    private int _freeList = -1;

    public IndexShard()
    {
        Array.Fill(_buckets, -1);
    }

    /// <summary>Live entries.</summary>
    public int Count { get; private set; }

    /// <summary>
    /// Bumped by every Set and Remove in this shard. A fault-in that began before a change in
    /// its shard does not admit what it read, so it can never resurrect a removed or older value.
    /// </summary>
    public long MutationStamp { get; private set; }

    /// <summary>Slots in use or free (scans walk 0..Capacity and skip dead slots).</summary>
    public int Capacity => _used;

    /// <summary>Managed bytes the shard's arrays take (for honest bytes-per-entry figures).</summary>
    public long ManagedBytes => (_buckets.LongLength * sizeof(int)) + (_entries.LongLength * System.Runtime.CompilerServices.Unsafe.SizeOf<IndexEntry>());

    public ref IndexEntry this[int slot] => ref _entries[slot];

    public void Touch() => MutationStamp++;

    /// <summary>First slot of the chain for <paramref name="hash"/>, -1 if none; walk on with <see cref="IndexEntry.Next"/>.</summary>
    public int First(int hash) => _buckets[Bucket(hash, _buckets.Length)];

    /// <summary>The slot holding <paramref name="handle"/>, or -1.</summary>
    public int FindByHandle(int hash, ZsHandle handle)
    {
        for (var i = First(hash); i >= 0; i = _entries[i].Next)
        {
            if (_entries[i].Handle == handle)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Adds a live entry and returns its slot. The caller has made sure the key is not present.</summary>
    public int Add(in IndexEntry entry)
    {
        Debug.Assert(!entry.Handle.IsNull, "a live entry has a pool object");
        if (_freeList < 0 && _used == _entries.Length)
        {
            Grow();
        }

        int slot;
        if (_freeList >= 0)
        {
            slot = _freeList;
            _freeList = _entries[slot].Next;
        }
        else
        {
            slot = _used++;
        }

        ref var bucket = ref _buckets[Bucket(entry.HashCode, _buckets.Length)];
        _entries[slot] = entry;
        _entries[slot].Next = bucket;
        bucket = slot;
        Count++;
        return slot;
    }

    /// <summary>Unlinks the entry at <paramref name="slot"/> and returns it (its pool object is the caller's to free).</summary>
    public IndexEntry RemoveAt(int slot)
    {
        var entry = _entries[slot];
        Debug.Assert(entry.IsLive, "only live entries are removed");
        ref var link = ref _buckets[Bucket(entry.HashCode, _buckets.Length)];
        while (link != slot)
        {
            Debug.Assert(link >= 0, "the entry is on its chain");
            link = ref _entries[link].Next;
        }

        link = entry.Next;
        _entries[slot] = new IndexEntry { Next = _freeList };
        _freeList = slot;
        Count--;
        return entry;
    }

    private static int Bucket(int hash, int length) => (int)((uint)hash & (uint)(length - 1));

    private void Grow()
    {
        // Doubling keeps the load factor at most 1 and the amortised cost per insert constant.
        var size = _entries.Length * 2;
        Array.Resize(ref _entries, size);
        _buckets = new int[size];
        Array.Fill(_buckets, -1);
        for (var i = 0; i < _used; i++)
        {
            if (_entries[i].IsLive)
            {
                ref var bucket = ref _buckets[Bucket(_entries[i].HashCode, size)];
                _entries[i].Next = bucket;
                bucket = i;
            }
        }

        // Rebuild the free list: the chains above reused Next of live entries only.
        _freeList = -1;
        for (var i = _used - 1; i >= 0; i--)
        {
            if (!_entries[i].IsLive)
            {
                _entries[i].Next = _freeList;
                _freeList = i;
            }
        }
    }
}
