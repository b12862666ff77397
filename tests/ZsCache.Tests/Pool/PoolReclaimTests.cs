using ZsCache.Pool;
using static ZsCache.Tests.Pool.PoolTestData;

namespace ZsCache.Tests.Pool;

public class PoolReclaimTests
{
    private const long MiB = 1024 * 1024;

    // 1024-byte objects: one page, four per zspage. Returns the handles per zspage, oldest first.
    private static List<ZsHandle[]> FillZspages(ZsPool pool, int zspages, int idBase = 0)
    {
        var result = new List<ZsHandle[]>();
        for (int z = 0; z < zspages; z++)
        {
            result.Add(Enumerable.Range(0, 4).Select(i => Store(pool, idBase + (z * 4) + i, 1024)).ToArray());
        }

        return result;
    }

    [Fact]
    public void Reclaim_takes_the_LRU_tail_and_frees_it_when_its_objects_are_freed()
    {
        using var pool = new ZsPool(MiB, 4096);
        List<ZsHandle[]> zs = FillZspages(pool, 3);
        int tail = pool.ZspageIdOf(zs[0][0]);

        Assert.True(pool.TryBeginReclaim(out ZsReclaim? reclaim));
        Assert.Equal(zs[0], reclaim.Handles);
        Assert.Equal(1, reclaim.Pages);
        Assert.DoesNotContain(tail, pool.LruSnapshot());
        foreach (ZsHandle h in reclaim.Handles)
        {
            Assert.True(Verify(pool, h, Array.IndexOf(zs[0], h), 1024)); // writeback reads them
            pool.Free(h);
        }

        Assert.Equal(3 * ZsPool.PageSize, pool.TotalBytes); // not freed before EndReclaim
        Assert.Equal(1, pool.EndReclaim(reclaim));
        Assert.Equal(2 * ZsPool.PageSize, pool.TotalBytes);
        Assert.True(reclaim.IsEnded);
        Assert.Equal(1, pool.GetStatistics().ZspagesReclaimed);
        pool.CheckInvariants();
    }

    [Fact]
    public void Zspage_under_reclaim_takes_no_new_objects()
    {
        using var pool = new ZsPool(MiB, 4096);
        ZsHandle only = Store(pool, 1, 1024); // zspage with three free slots
        Assert.True(pool.TryBeginReclaim(out ZsReclaim? reclaim));
        ZsHandle other = Store(pool, 2, 1024);
        Assert.NotEqual(pool.ZspageIdOf(only), pool.ZspageIdOf(other));
        pool.CheckInvariants();
        Assert.Equal(0, pool.EndReclaim(reclaim));

        // Back on its fullness list, it takes objects again.
        Assert.True(pool.TryMalloc(1024, out ZsHandle third));
        Assert.Contains(pool.ZspageIdOf(third), new[] { pool.ZspageIdOf(only), pool.ZspageIdOf(other) });
    }

    [Fact]
    public void Objects_under_reclaim_can_still_be_read_written_and_freed()
    {
        using var pool = new ZsPool(MiB, 4096);
        List<ZsHandle[]> zs = FillZspages(pool, 1);
        Assert.True(pool.TryBeginReclaim(out ZsReclaim? reclaim));
        pool.Write(zs[0][1], 0, Pattern(99, 1024));
        Assert.True(Verify(pool, zs[0][1], 99, 1024));
        Assert.Equal(1024, pool.GetLength(zs[0][2]));
        pool.Touch(zs[0][2]); // not on the LRU while reclaimed: no effect, no error
        pool.Free(zs[0][3]);
        Assert.Equal(0, pool.EndReclaim(reclaim));
        Assert.True(Verify(pool, zs[0][0], 0, 1024));
        Assert.True(Verify(pool, zs[0][2], 2, 1024));
        pool.CheckInvariants();
    }

    [Fact]
    public void Reclaim_defers_handle_reuse_until_reclaim_ends()
    {
        using var pool = new ZsPool(MiB, 4096);
        List<ZsHandle[]> zs = FillZspages(pool, 1);
        Assert.True(pool.TryBeginReclaim(out ZsReclaim? reclaim));

        // A free racing with writeback: the slot is freed and counted at once...
        ZsHandle raced = zs[0][2];
        pool.Free(raced);
        Assert.False(pool.IsLive(raced));
        Assert.Throws<ZsPoolException>(() => ReadAll(pool, raced));
        Assert.Equal(3, pool.GetStatistics().Objects);
        Assert.Equal(1, pool.GetStatistics().DeferredFrees);

        // ...but its handle index is not handed out again while the reclaim is open.
        var during = Enumerable.Range(0, 8).Select(i => Store(pool, 100 + i, 1024)).ToList();
        Assert.DoesNotContain(during, h => h.Index == raced.Index);

        foreach (ZsHandle h in zs[0].Where(h => h != raced))
        {
            pool.Free(h);
        }

        // The zspage emptied during reclaim: it is freed at the end, and the handle released.
        Assert.Equal(1, pool.EndReclaim(reclaim));
        Assert.True(pool.TryMalloc(1024, out ZsHandle after));
        Assert.Contains(after.Index, zs[0].Select(h => h.Index));
        Assert.Throws<ZsPoolException>(() => ReadAll(pool, raced)); // still stale after reuse
        pool.CheckInvariants();
    }

    [Fact]
    public void Zspage_emptied_only_by_racing_frees_is_freed_when_reclaim_ends()
    {
        using var pool = new ZsPool(MiB, 4096);
        List<ZsHandle[]> zs = FillZspages(pool, 1);
        Assert.True(pool.TryBeginReclaim(out ZsReclaim? reclaim));
        foreach (ZsHandle h in zs[0])
        {
            pool.Free(h); // e.g. Remove() calls while the writeback is in flight
        }

        Assert.Equal(ZsPool.PageSize, pool.TotalBytes);
        Assert.Equal(1, pool.EndReclaim(reclaim));
        Assert.Equal(0, pool.TotalBytes);
        pool.CheckInvariants();
    }

    [Fact]
    public void Reclaim_puts_a_zspage_with_live_objects_back_at_the_LRU_front()
    {
        using var pool = new ZsPool(MiB, 4096);
        List<ZsHandle[]> zs = FillZspages(pool, 3);
        int tail = pool.ZspageIdOf(zs[0][0]);
        Assert.True(pool.TryBeginReclaim(out ZsReclaim? reclaim));
        pool.Free(zs[0][0]);
        Assert.Equal(0, pool.EndReclaim(reclaim));
        Assert.Equal(tail, pool.LruSnapshot()[0]);
        for (int i = 1; i < 4; i++)
        {
            Assert.True(Verify(pool, zs[0][i], i, 1024));
        }

        // The next reclaim takes the next-coldest zspage.
        Assert.True(pool.TryBeginReclaim(out ZsReclaim? next));
        Assert.Equal(zs[1], next.Handles);
        pool.EndReclaim(next);
        pool.CheckInvariants();
    }

    [Fact]
    public void Reclaim_of_a_large_object_frees_its_whole_zspage()
    {
        using var pool = new ZsPool(MiB, 100_000);
        ZsHandle big = Store(pool, 1, 50_000);
        Assert.True(pool.TryBeginReclaim(out ZsReclaim? reclaim));
        Assert.Equal([big], reclaim.Handles);
        Assert.Equal(13, reclaim.Pages); // 50,000 B rounds up to 13 pages
        pool.Free(big);
        Assert.Equal(13, pool.EndReclaim(reclaim));
        Assert.Equal(0, pool.TotalBytes);
    }

    [Fact]
    public void TryBeginReclaim_returns_false_when_nothing_is_reclaimable()
    {
        using var pool = new ZsPool(MiB, 4096);
        Assert.False(pool.TryBeginReclaim(out ZsReclaim? none));
        Assert.Null(none);
        Store(pool, 1, 100);
        Assert.True(pool.TryBeginReclaim(out ZsReclaim? only));
        Assert.False(pool.TryBeginReclaim(out _)); // its only zspage is already being reclaimed
        pool.EndReclaim(only);
    }

    [Fact]
    public void EndReclaim_rejects_a_second_call_and_a_foreign_reclaim()
    {
        using var pool = new ZsPool(MiB, 4096);
        using var other = new ZsPool(MiB, 4096);
        Store(pool, 1, 100);
        Store(other, 1, 100);
        Assert.True(pool.TryBeginReclaim(out ZsReclaim? reclaim));
        Assert.True(other.TryBeginReclaim(out ZsReclaim? foreign));
        Assert.Equal("reclaim", Assert.Throws<ArgumentException>(() => pool.EndReclaim(foreign)).ParamName);
        pool.EndReclaim(reclaim);
        Assert.Throws<InvalidOperationException>(() => pool.EndReclaim(reclaim));
        other.EndReclaim(foreign);
        pool.CheckInvariants();
        other.CheckInvariants();
    }

    [Fact]
    public void Shrink_evicts_the_coldest_zspages_until_enough_pages_are_freed()
    {
        using var pool = new ZsPool(MiB, 4096);
        List<ZsHandle[]> zs = FillZspages(pool, 5);
        pool.Touch(zs[0][0]); // zspage 0 is now the hottest; 1 is the coldest
        var evicted = new List<ZsHandle>();
        int freed = pool.Shrink(2, h =>
        {
            evicted.Add(h);
            pool.Free(h);
            return true;
        });

        Assert.Equal(2, freed);
        Assert.Equal(zs[1].Concat(zs[2]), evicted);
        Assert.Equal(3 * ZsPool.PageSize, pool.TotalBytes);
        Assert.True(Verify(pool, zs[0][0], 0, 1024));
        pool.CheckInvariants();
    }

    [Fact]
    public void Shrink_with_an_evict_that_refuses_puts_the_zspage_back_intact_and_tries_the_next()
    {
        using var pool = new ZsPool(MiB, 4096);
        List<ZsHandle[]> zs = FillZspages(pool, 3);
        int refusedZspage = pool.ZspageIdOf(zs[0][0]);
        var offered = new List<ZsHandle>();
        int freed = pool.Shrink(1, h =>
        {
            offered.Add(h);
            if (h == zs[0][2])
            {
                return false; // e.g. the writeback tier refused this one
            }

            pool.Free(h);
            return true;
        });

        Assert.Equal(1, freed);
        Assert.Equal(zs[0].Take(3).Concat(zs[1]), offered); // stopped at the refusal, as the patch
        Assert.Equal(refusedZspage, pool.LruSnapshot()[0]);
        Assert.True(Verify(pool, zs[0][2], 2, 1024));
        Assert.True(Verify(pool, zs[0][3], 3, 1024));
        Assert.False(pool.IsLive(zs[0][0]));
        pool.CheckInvariants();
    }

    [Fact]
    public void Shrink_gives_up_after_eight_refused_zspages()
    {
        using var pool = new ZsPool(MiB, 4096);
        List<ZsHandle[]> zs = FillZspages(pool, 10);
        int calls = 0;
        int freed = pool.Shrink(1, _ =>
        {
            calls++;
            return false;
        });

        Assert.Equal(0, freed);
        Assert.Equal(ZsPool.ReclaimRetries, calls);
        Assert.Equal(ZsPool.ReclaimRetries, pool.GetStatistics().ReclaimsBegun);
        Assert.Equal(10 * ZsPool.PageSize, pool.TotalBytes);
        for (int z = 0; z < zs.Count; z++)
        {
            for (int i = 0; i < 4; i++)
            {
                Assert.True(Verify(pool, zs[z][i], (z * 4) + i, 1024));
            }
        }

        pool.CheckInvariants();
    }

    [Fact]
    public void Shrink_skips_objects_freed_after_the_snapshot()
    {
        using var pool = new ZsPool(MiB, 4096);
        List<ZsHandle[]> zs = FillZspages(pool, 1);
        var offered = new List<ZsHandle>();
        int freed = pool.Shrink(1, h =>
        {
            offered.Add(h);
            if (h == zs[0][0])
            {
                pool.Free(zs[0][1]); // a concurrent Remove of the next object
            }

            pool.Free(h);
            return true;
        });

        Assert.Equal(1, freed);
        Assert.DoesNotContain(zs[0][1], offered);
        pool.CheckInvariants();
    }

    [Fact]
    public void Evict_that_throws_leaves_the_zspage_put_back_and_the_pool_consistent()
    {
        using var pool = new ZsPool(MiB, 4096);
        List<ZsHandle[]> zs = FillZspages(pool, 2);
        Assert.Throws<TimeoutException>(() => pool.Shrink(1, _ => throw new TimeoutException()));
        pool.CheckInvariants();
        Assert.Equal(pool.ZspageIdOf(zs[0][0]), pool.LruSnapshot()[0]);
        Assert.True(Verify(pool, zs[0][0], 0, 1024));
    }

    [Fact]
    public void Shrink_on_an_empty_pool_frees_nothing()
    {
        using var pool = new ZsPool(MiB, 4096);
        Assert.Equal(0, pool.Shrink(10, _ => true));
        Assert.Equal(0, pool.Shrink(0, _ => true));
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Shrink(-1, _ => true));
    }

    [Fact]
    public void ObjectsOfColdZspage_lists_the_live_objects_of_the_coldest_zspage_of_the_class_and_nothing_for_an_empty_class()
    {
        using var pool = new ZsPool(MiB, 4096);
        Assert.Empty(pool.ObjectsOfColdZspage(100));
        var handles = new List<ZsHandle>();
        for (var i = 0; i < 2000; i++)
        {
            Assert.True(pool.TryMalloc(100, out var h));
            handles.Add(h);
        }

        // The first zspage filled is the coldest, even with a hole in it; the zspage being filled
        // last (the head of its fullness list) would be the hottest.
        pool.Free(handles[0]);
        var victims = pool.ObjectsOfColdZspage(100);
        Assert.NotEmpty(victims);
        Assert.Contains(handles[1], victims);
        Assert.DoesNotContain(handles[0], victims);
        Assert.DoesNotContain(handles[^1], victims);
        Assert.All(victims, h => Assert.True(pool.IsLive(h)));
        Assert.All(victims, h => Assert.Equal(100, pool.GetLength(h)));

        // A read moves its zspage to the LRU front: the next coldest is offered instead.
        pool.Touch(handles[1]);
        var next = pool.ObjectsOfColdZspage(100);
        Assert.DoesNotContain(handles[1], next);
        Assert.Contains(handles[victims.Length + 1], next);

        // Freeing any one of them makes room in the class without a new zspage.
        var before = pool.TotalBytes;
        pool.Free(next[^1]);
        Assert.True(pool.TryMalloc(100, out _));
        Assert.Equal(before, pool.TotalBytes);
        Assert.Empty(pool.ObjectsOfColdZspage(3000));
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.ObjectsOfColdZspage(0));
    }
}
