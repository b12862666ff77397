using ZsCache.Pool;
using static ZsCache.Tests.Pool.PoolTestData;

namespace ZsCache.Tests.Pool;

public class PoolBasicsTests
{
    private const long MiB = 1024 * 1024;

    [Fact]
    public void Constructor_rejects_bad_limits_naming_the_argument()
    {
        Assert.Equal("maxBytes", Assert.Throws<ArgumentOutOfRangeException>(() => new ZsPool(ZsPool.MinPoolBytes - 1, 100)).ParamName);
        Assert.Equal("maxObjectBytes", Assert.Throws<ArgumentOutOfRangeException>(() => new ZsPool(MiB, 0)).ParamName);
        Assert.Equal("maxObjectBytes", Assert.Throws<ArgumentOutOfRangeException>(() => new ZsPool(MiB, (int)MiB + 1)).ParamName);
        using var ok = new ZsPool(ZsPool.MinPoolBytes, 64 * 1024);
        Assert.Equal(ZsPool.MinPoolBytes, ok.MaxBytes);
        Assert.Equal(64 * 1024, ok.MaxObjectBytes);
    }

    [Fact]
    public void TryMalloc_rejects_sizes_outside_one_to_MaxObjectBytes()
    {
        using var pool = new ZsPool(MiB, 1000);
        Assert.Equal("size", Assert.Throws<ArgumentOutOfRangeException>(() => pool.TryMalloc(0, out _)).ParamName);
        Assert.Equal("size", Assert.Throws<ArgumentOutOfRangeException>(() => pool.TryMalloc(1001, out _)).ParamName);
        Assert.True(pool.TryMalloc(1000, out _));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(32)]
    [InlineData(33)]
    [InlineData(3000)]
    [InlineData(4096)]
    [InlineData(5000)]
    [InlineData(16384)]
    [InlineData(16385)]
    [InlineData(100_000)]
    public void Written_bytes_read_back_exactly_with_the_requested_length(int size)
    {
        using var pool = new ZsPool(MiB, 200_000);
        ZsHandle handle = Store(pool, id: size, size);
        Assert.Equal(size, pool.GetLength(handle));
        Assert.Equal(Pattern(size, size), ReadAll(pool, handle));
        pool.CheckInvariants();
    }

    [Fact]
    public void A_new_object_reads_as_zeros_even_in_a_reused_slot()
    {
        using var pool = new ZsPool(MiB, 4096);
        ZsHandle a = Store(pool, 1, 100);
        ZsHandle keep = Store(pool, 2, 100); // keeps the zspage alive so the slot is reused
        pool.Free(a);
        Assert.True(pool.TryMalloc(100, out ZsHandle b));
        Assert.All(ReadAll(pool, b), x => Assert.Equal(0, x));
        Assert.True(Verify(pool, keep, 2, 100));
    }

    [Fact]
    public void Partial_writes_land_at_the_offset_and_out_of_range_writes_throw()
    {
        using var pool = new ZsPool(MiB, 4096);
        Assert.True(pool.TryMalloc(10, out ZsHandle h));
        pool.Write(h, 4, [1, 2, 3]);
        pool.Write(h, 10, ReadOnlySpan<byte>.Empty);
        Assert.Equal(new byte[] { 0, 0, 0, 0, 1, 2, 3, 0, 0, 0 }, ReadAll(pool, h));
        Assert.Equal("source", Assert.Throws<ArgumentOutOfRangeException>(() => pool.Write(h, 8, [1, 2, 3])).ParamName);
        Assert.Equal("offset", Assert.Throws<ArgumentOutOfRangeException>(() => pool.Write(h, -1, [1])).ParamName);
        Assert.Equal("offset", Assert.Throws<ArgumentOutOfRangeException>(() => pool.Write(h, 11, [])).ParamName);

        // A rejected write changed nothing, here or in the slot after it.
        Assert.Equal(new byte[] { 0, 0, 0, 0, 1, 2, 3, 0, 0, 0 }, ReadAll(pool, h));
    }

    [Fact]
    public void Reader_sees_exactly_the_object_even_when_its_slot_is_larger()
    {
        using var pool = new ZsPool(MiB, 4096);
        ZsHandle a = Store(pool, 1, 33);   // 48-byte class: 15 bytes of slack after it
        ZsHandle b = Store(pool, 2, 48);
        Assert.Equal(33, pool.Read(a, 0, static (d, _) => d.Length));
        Assert.True(Verify(pool, a, 1, 33));
        Assert.True(Verify(pool, b, 2, 48));
    }

    [Fact]
    public void Freed_handle_is_stale_for_every_operation()
    {
        using var pool = new ZsPool(MiB, 4096);
        ZsHandle h = Store(pool, 1, 64);
        pool.Free(h);
        Assert.False(pool.IsLive(h));
        Assert.Throws<ZsPoolException>(() => pool.Free(h));
        Assert.Throws<ZsPoolException>(() => pool.GetLength(h));
        Assert.Throws<ZsPoolException>(() => ReadAll(pool, h));
        Assert.Throws<ZsPoolException>(() => pool.Write(h, 0, [1]));
        Assert.Throws<ZsPoolException>(() => pool.Touch(h));
    }

    [Fact]
    public void Stale_handle_never_reads_the_object_that_reused_its_index_and_slot()
    {
        using var pool = new ZsPool(MiB, 4096);
        ZsHandle old = Store(pool, 1, 64);
        pool.Free(old);
        ZsHandle fresh = Store(pool, 2, 64);
        Assert.Equal(old.Index, fresh.Index);          // the index is reused...
        Assert.NotEqual(old, fresh);                   // ...with a new generation
        ZsPoolException ex = Assert.Throws<ZsPoolException>(() => ReadAll(pool, old));
        Assert.Contains("stale", ex.Message, StringComparison.Ordinal);
        Assert.True(Verify(pool, fresh, 2, 64));
    }

    [Fact]
    public void Null_and_never_issued_handles_throw_pool_exceptions()
    {
        using var pool = new ZsPool(MiB, 4096);
        Assert.True(ZsHandle.Null.IsNull);
        Assert.Throws<ZsPoolException>(() => pool.Free(ZsHandle.Null));
        Assert.Throws<ZsPoolException>(() => ReadAll(pool, ZsHandle.Null));
        Assert.Throws<ZsPoolException>(() => pool.Free(new ZsHandle(0xFFFF_FFFF_0000_0001UL)));
        Assert.Throws<ZsPoolException>(() => pool.GetLength(new ZsHandle(1_000_000)));
        Assert.Throws<ZsPoolException>(() => pool.GetLength(new ZsHandle(uint.MaxValue)));
    }

    [Fact]
    public void Handle_round_trips_through_its_raw_value()
    {
        using var pool = new ZsPool(MiB, 4096);
        ZsHandle h = Store(pool, 7, 70);
        var copy = new ZsHandle(h.Value);
        Assert.Equal(h, copy);
        Assert.True(h == copy);
        Assert.Equal(h.GetHashCode(), copy.GetHashCode());
        Assert.True(Verify(pool, copy, 7, 70));
    }

    [Fact]
    public void Allocation_fills_the_fullest_non_full_zspage_first()
    {
        using var pool = new ZsPool(MiB, 4096);

        // 1024-byte class: one page, four objects. Fill zspages A and B, then leave A with
        // one object (25%) and B with three (75%): the next object must go to B.
        var a = Enumerable.Range(0, 4).Select(i => Store(pool, i, 1024)).ToArray();
        var b = Enumerable.Range(4, 4).Select(i => Store(pool, i, 1024)).ToArray();
        int za = pool.ZspageIdOf(a[0]), zb = pool.ZspageIdOf(b[0]);
        Assert.NotEqual(za, zb);
        pool.Free(a[1]);
        pool.Free(a[2]);
        pool.Free(a[3]);
        pool.Free(b[3]);
        Assert.True(pool.TryMalloc(1024, out ZsHandle n));
        Assert.Equal(zb, pool.ZspageIdOf(n));
        Assert.True(pool.TryMalloc(1024, out ZsHandle m));
        Assert.Equal(za, pool.ZspageIdOf(m)); // B is full now; A is the only one with room
        Assert.Equal(2 * ZsPool.PageSize, pool.TotalBytes);
        Assert.True(Verify(pool, b[0], 4, 1024) && Verify(pool, a[0], 0, 1024));
        pool.CheckInvariants();
    }

    [Fact]
    public void Emptied_zspage_is_freed_and_its_bytes_returned()
    {
        using var pool = new ZsPool(MiB, 4096);
        ZsHandle h = Store(pool, 1, 100);
        Assert.True(pool.TotalBytes > 0);
        pool.Free(h);
        Assert.Equal(0, pool.TotalBytes);
        Assert.Equal(0, pool.GetStatistics().Zspages);
        pool.CheckInvariants();
    }

    [Fact]
    public void Allocation_that_would_pass_the_byte_limit_fails_fast_and_changes_nothing()
    {
        long limit = ZsPool.MinPoolBytes; // 64 KiB
        using var pool = new ZsPool(limit, 64 * 1024);
        var handles = new List<ZsHandle>();
        int stored = 0;
        while (pool.TryMalloc(4096, out ZsHandle h))
        {
            handles.Add(h);
            stored++;
            Assert.True(pool.TotalBytes <= limit);
        }

        Assert.Equal(16, stored); // 4096-byte objects: one page each
        Assert.Equal(limit, pool.TotalBytes);
        Assert.False(pool.TryMalloc(100, out ZsHandle none));
        Assert.True(none.IsNull);
        Assert.Equal(limit, pool.TotalBytes);
        Assert.Equal(2, pool.GetStatistics().AllocationFailures);
        pool.CheckInvariants();

        // Freeing one page's object makes room again.
        pool.Free(handles[0]);
        Assert.True(pool.TryMalloc(4096, out _));
    }

    [Fact]
    public void Large_objects_get_a_whole_page_zspage_of_their_own()
    {
        using var pool = new ZsPool(MiB, 100_000);
        ZsHandle a = Store(pool, 1, 16_385);
        ZsHandle b = Store(pool, 2, 16_385);
        Assert.NotEqual(pool.ZspageIdOf(a), pool.ZspageIdOf(b));
        Assert.Equal(2 * 20_480, pool.TotalBytes); // 16385 rounds up to 5 pages
        ZsPoolStatistics stats = pool.GetStatistics();
        ZsClassStatistics large = Assert.Single(stats.Classes, c => c.IsLarge);
        Assert.Equal(2, large.ObjectsUsed);
        Assert.Equal(10, large.PagesUsed);
        pool.Free(a);
        Assert.Equal(20_480, pool.TotalBytes);
        Assert.True(Verify(pool, b, 2, 16_385));
    }

    [Fact]
    public void Statistics_report_the_debugfs_class_table_and_pool_totals()
    {
        using var pool = new ZsPool(MiB, 4096);
        for (int i = 0; i < 10; i++)
        {
            Store(pool, i, 100);
        }

        ZsPoolStatistics stats = pool.GetStatistics();
        ZsClassStatistics row = Assert.Single(stats.Classes, c => c.ObjectsUsed > 0);
        Assert.Equal(112, row.Size);                       // 100 rounds up to the 112-byte class
        Assert.Equal(ZsSizeClassGeometry.IndexOfSize(112), row.Index);
        Assert.Equal(7, row.PagesPerZspage);               // 7 pages hold 256 objects of 112 B
        Assert.Equal(256, row.ObjectsPerZspage);
        Assert.Equal(1, row.Zspages);
        Assert.Equal(256, row.ObjectsAllocated);
        Assert.Equal(10, row.ObjectsUsed);
        Assert.Equal(0, row.FreeablePages);                // 246 free slots < one zspage's 256
        Assert.Equal(7, row.PagesUsed);
        Assert.Equal(1000, row.LiveBytes);

        Assert.Equal(7 * 4096, stats.TotalBytes);
        Assert.Equal(7, stats.Pages);
        Assert.Equal(10, stats.Objects);
        Assert.Equal(1000, stats.LiveObjectBytes);
        Assert.True(stats.MetadataBytes > 0);
        Assert.Equal(ZsSizeClassGeometry.Distinct.Count + 1, stats.Classes.Count);
    }

    [Fact]
    public void Touch_moves_the_objects_zspage_to_the_LRU_front_and_malloc_does_too()
    {
        using var pool = new ZsPool(MiB, 4096);
        ZsHandle a = Store(pool, 1, 4000);
        ZsHandle b = Store(pool, 2, 2000);
        ZsHandle c = Store(pool, 3, 1000);
        int za = pool.ZspageIdOf(a), zb = pool.ZspageIdOf(b), zc = pool.ZspageIdOf(c);
        Assert.Equal([zc, zb, za], pool.LruSnapshot());
        pool.Touch(a);
        Assert.Equal([za, zc, zb], pool.LruSnapshot());
        Store(pool, 4, 2000); // lands in b's zspage
        Assert.Equal([zb, za, zc], pool.LruSnapshot());
        ReadAll(pool, c);     // reads do not touch
        Assert.Equal([zb, za, zc], pool.LruSnapshot());
    }

    [Fact]
    public void Disposed_pool_refuses_operations()
    {
        var pool = new ZsPool(MiB, 4096);
        ZsHandle h = Store(pool, 1, 10);
        pool.Dispose();
        Assert.Equal(0, pool.TotalBytes);
        Assert.Throws<ObjectDisposedException>(() => pool.TryMalloc(10, out _));
        Assert.Throws<ObjectDisposedException>(() => ReadAll(pool, h));
        pool.Dispose();
    }
}
