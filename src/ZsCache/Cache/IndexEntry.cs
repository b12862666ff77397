using ZsCache.Pool;
using ZsCache.Writeback;

namespace ZsCache.Cache;

/// <summary>State bits of an <see cref="IndexEntry"/>.</summary>
[Flags]
internal enum EntryFlags : byte
{
    None = 0,

    /// <summary>The writeback tier holds this very version (it was faulted in and not changed since): reclaim need not write it again.</summary>
    Clean = 1,

    /// <summary>Read or written since the shrinker last passed it (the CLOCK policy's second-chance bit).</summary>
    Referenced = 2,

    /// <summary>A writeback of this version is in flight.</summary>
    InFlight = 4,
}

/// <summary>
/// One pool-resident entry: a struct in a shard's array, so a million entries are a handful of
/// large arrays to the GC rather than a million objects. The key is not here: it is in the pool
/// object, found through <see cref="Handle"/>.
/// </summary>
internal struct IndexEntry
{
    public int HashCode;

    /// <summary>Next entry in the bucket chain (or in the free list), -1 at the end.</summary>
    public int Next;

    public ZsHandle Handle;
    public long Version;

    /// <summary>UTC ticks after which the entry is gone whatever happens; <see cref="long.MaxValue"/> for never.</summary>
    public long AbsoluteTicks;

    /// <summary>The sliding window in ticks; 0 for none.</summary>
    public long SlidingTicks;

    /// <summary>UTC ticks at which the entry expires now: min(absolute, last access + sliding).</summary>
    public long DeadlineTicks;

    public int OriginalLength;
    public int DataLength;
    public ZsCodec Codec;
    public EntryFlags Flags;

    public readonly bool IsLive => !Handle.IsNull;
}
