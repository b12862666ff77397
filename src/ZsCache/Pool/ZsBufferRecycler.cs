using System.Diagnostics;

namespace ZsCache.Pool;

/// <summary>
/// Keeps a bounded number of freed zspage buffers for reuse, one stack per page count (1..16).
/// </summary>
/// <remarks>
/// <para>Why: a pinned-object-heap allocation is slow (it goes through the GC's
/// large-object allocator) and counts against the gen-2 budget; with 1 KiB objects churning,
/// fresh buffers made allocate+write+free cost 3.7 µs per object instead of ~0.6 µs and
/// caused periodic gen-2 GCs (<c>docs/benchmarks-pool.md</c>).</para>
/// <para>Accounting: recycled buffers are not zspages, so they are not in
/// <see cref="ZsPool.TotalBytes"/> (a shrink that frees a zspage lowers it at once), but the
/// pool's limit covers both: buffers are only kept while live zspages plus recycled buffers
/// fit in the limit, and they are dropped before a new buffer would break it.</para>
/// <para>Thread-safe under its own leaf lock; nothing is acquired while holding it.</para>
/// </remarks>
internal sealed class ZsBufferRecycler
{
    private readonly Lock _lock = new();
    private readonly Stack<byte[]>[] _byPages;
    private readonly long _capacityBytes;
    private readonly Func<long> _room;
    private long _bytes;

    /// <summary>Creates a recycler holding at most <paramref name="capacityBytes"/>, and never
    /// more than <paramref name="room"/> says is left under the pool's limit (read under the
    /// recycler's lock, so it is current when a buffer is kept or dropped).</summary>
    public ZsBufferRecycler(long capacityBytes, Func<long> room)
    {
        _capacityBytes = capacityBytes;
        _room = room;
        _byPages = new Stack<byte[]>[ZsSizeClassGeometry.MaxPagesPerZspage + 1];
        for (int i = 0; i < _byPages.Length; i++)
        {
            _byPages[i] = new Stack<byte[]>();
        }
    }

    /// <summary>Bytes of buffers held for reuse.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>A recycled buffer of exactly <paramref name="pages"/> pages, or null.</summary>
    public byte[]? TryTake(int pages)
    {
        if (pages >= _byPages.Length)
        {
            return null;
        }

        lock (_lock)
        {
            if (_byPages[pages].TryPop(out byte[]? buffer))
            {
                Interlocked.Add(ref _bytes, -buffer.Length);
                return buffer;
            }
        }

        return null;
    }

    /// <summary>
    /// Keeps a freed buffer if it fits both the recycler's capacity and the room left under
    /// the limit; otherwise drops it.
    /// </summary>
    public void Return(byte[] buffer)
    {
        int pages = buffer.Length / ZsPool.PageSize;
        if (pages >= _byPages.Length)
        {
            return;
        }

        lock (_lock)
        {
            if (_bytes + buffer.Length <= Math.Min(_capacityBytes, _room()))
            {
                _byPages[pages].Push(buffer);
                Interlocked.Add(ref _bytes, buffer.Length);
            }
        }
    }

    /// <summary>Drops buffers, largest first, until they fit the room left under the limit.</summary>
    public void Trim() => TrimTo(long.MaxValue);

    /// <summary>Drops every buffer.</summary>
    public void Clear() => TrimTo(0);

    private void TrimTo(long cap)
    {
        lock (_lock)
        {
            long room = Math.Min(cap, _room());
            for (int pages = _byPages.Length - 1; pages > 0 && _bytes > Math.Max(room, 0); pages--)
            {
                while (_bytes > Math.Max(room, 0) && _byPages[pages].TryPop(out byte[]? buffer))
                {
                    Interlocked.Add(ref _bytes, -buffer.Length);
                }
            }

            Debug.Assert(_bytes <= Math.Max(room, 0), "trimmed to the room");
        }
    }
}
