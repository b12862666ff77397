// Temporary stand-in with the agreed pool API so the cache compiles before the real pool
// (branch 'pool') is merged. Deleted at that merge.
using System.Diagnostics.CodeAnalysis;

namespace ZsCache.Pool;

internal readonly struct ZsHandle : IEquatable<ZsHandle>
{
    public ZsHandle(ulong value) => Value = value;
    public ulong Value { get; }
    public bool IsNull => Value == 0;
    public bool Equals(ZsHandle other) => Value == other.Value;
    public override bool Equals(object? obj) => obj is ZsHandle h && Equals(h);
    public override int GetHashCode() => Value.GetHashCode();
    public static bool operator ==(ZsHandle a, ZsHandle b) => a.Equals(b);
    public static bool operator !=(ZsHandle a, ZsHandle b) => !a.Equals(b);
}

internal sealed class ZsPoolException(string message) : Exception(message);

internal delegate TResult ZsReadFunc<TState, TResult>(ReadOnlySpan<byte> data, TState state)
    where TState : allows ref struct;

internal readonly record struct ZsCompactionResult(int PagesFreed, long ObjectsMoved);

internal sealed record ZsClassStatistics(int Index, int Size, long ObjectsAllocated, long ObjectsUsed, long Zspages, int PagesPerZspage, long Freeable);

internal sealed record ZsPoolStatistics(long TotalBytes, long Pages, long ObjectsUsed, long LiveObjectBytes, IReadOnlyList<ZsClassStatistics> Classes);

internal sealed class ZsReclaim
{
    public required IReadOnlyList<ZsHandle> Handles { get; init; }
    public int Pages { get; init; }
}

internal sealed class ZsPool : IDisposable
{
    public const int PageSize = 4096;
    private readonly Lock _lock = new();
    private readonly Dictionary<ulong, byte[]> _objects = [];
    private readonly LinkedList<ulong> _lru = new();
    private ulong _next;
    private long _total;

    public ZsPool(long maxBytes, int maxObjectBytes)
    {
        MaxBytes = maxBytes;
        MaxObjectBytes = maxObjectBytes;
    }

    public long MaxBytes { get; }
    public int MaxObjectBytes { get; }
    public long TotalBytes => Volatile.Read(ref _total);

    private static long Cost(int size) => (size + PageSize - 1) / PageSize * PageSize;

    public bool TryMalloc(int size, out ZsHandle handle)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(size, MaxObjectBytes);
        lock (_lock)
        {
            if (_total + Cost(size) > MaxBytes)
            {
                handle = default;
                return false;
            }

            _total += Cost(size);
            handle = new ZsHandle(++_next);
            _objects[handle.Value] = new byte[size];
            _lru.AddFirst(handle.Value);
            return true;
        }
    }

    public void Free(ZsHandle handle)
    {
        lock (_lock)
        {
            if (!_objects.Remove(handle.Value, out var o))
            {
                throw new ZsPoolException("stale handle");
            }

            _total -= Cost(o.Length);
            _lru.Remove(handle.Value);
        }
    }

    public int GetLength(ZsHandle handle)
    {
        lock (_lock)
        {
            return _objects[handle.Value].Length;
        }
    }

    public void Write(ZsHandle handle, int offset, ReadOnlySpan<byte> source)
    {
        lock (_lock)
        {
            source.CopyTo(_objects[handle.Value].AsSpan(offset));
        }
    }

    public TResult Read<TState, TResult>(ZsHandle handle, TState state, ZsReadFunc<TState, TResult> reader)
        where TState : allows ref struct
    {
        lock (_lock)
        {
            if (!_objects.TryGetValue(handle.Value, out var o))
            {
                throw new ZsPoolException("stale handle");
            }

            return reader(o, state);
        }
    }

    public void Touch(ZsHandle handle)
    {
    }

    public bool TryBeginReclaim([NotNullWhen(true)] out ZsReclaim? reclaim)
    {
        lock (_lock)
        {
            if (_lru.Last is null)
            {
                reclaim = null;
                return false;
            }

            reclaim = new ZsReclaim { Handles = [new ZsHandle(_lru.Last.Value)], Pages = 1 };
            _lru.RemoveLast();
            _lru.AddFirst(reclaim.Handles[0].Value);
            return true;
        }
    }

    public int EndReclaim(ZsReclaim reclaim)
    {
        lock (_lock)
        {
            return _objects.ContainsKey(reclaim.Handles[0].Value) ? 0 : 1;
        }
    }

    public int Shrink(int pages, Func<ZsHandle, bool> evict) => 0;

    public ZsCompactionResult Compact() => default;

    public ZsPoolStatistics GetStatistics()
    {
        lock (_lock)
        {
            return new ZsPoolStatistics(_total, _total / PageSize, _objects.Count, _objects.Values.Sum(o => (long)o.Length), []);
        }
    }

    public void Dispose()
    {
    }
}
