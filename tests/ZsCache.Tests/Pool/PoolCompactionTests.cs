using ZsCache.Pool;
using static ZsCache.Tests.Pool.PoolTestData;

namespace ZsCache.Tests.Pool;

public class PoolCompactionTests
{
    private const long MiB = 1024 * 1024;

    [Fact]
    public void Compaction_moves_objects_from_sparse_into_dense_zspages_and_frees_the_emptied()
    {
        using var pool = new ZsPool(MiB, 4096);

        // 1024-byte class: four per one-page zspage. Four zspages, half of each freed.
        var handles = Enumerable.Range(0, 16).Select(i => Store(pool, i, 1024)).ToArray();
        var live = new List<int>();
        for (int i = 0; i < 16; i++)
        {
            if (i % 2 == 0)
            {
                pool.Free(handles[i]);
            }
            else
            {
                live.Add(i);
            }
        }

        Assert.Equal(4 * ZsPool.PageSize, pool.TotalBytes);
        Assert.Equal(2, pool.GetStatistics().FreeablePages);

        ZsCompactionResult result = pool.Compact();

        Assert.Equal(2, result.PagesFreed);
        Assert.Equal(4, result.ObjectsMoved);
        Assert.Equal(2 * ZsPool.PageSize, pool.TotalBytes);
        Assert.Equal(0, pool.GetStatistics().FreeablePages);
        Assert.Equal(2, pool.GetStatistics().PagesCompacted);
        foreach (int i in live)
        {
            Assert.True(Verify(pool, handles[i], i, 1024), $"object {i} intact after the move");
            Assert.Equal(1024, pool.GetLength(handles[i]));
        }

        pool.CheckInvariants();
    }

    [Fact]
    public void Moved_objects_keep_their_handles_and_can_be_written_and_freed()
    {
        using var pool = new ZsPool(MiB, 4096);
        var handles = Enumerable.Range(0, 8).Select(i => Store(pool, i, 1024)).ToArray();
        int before = pool.ZspageIdOf(handles[0]);
        for (int i = 1; i < 8; i++)
        {
            if (i != 5)
            {
                pool.Free(handles[i]);
            }
        }

        // Zspage of 0 holds one object, that of 5 holds one: one of them moves.
        Assert.Equal(1, pool.Compact().ObjectsMoved);
        Assert.Equal(pool.ZspageIdOf(handles[0]), pool.ZspageIdOf(handles[5]));
        int moved = pool.ZspageIdOf(handles[0]) == before ? 5 : 0;
        pool.Write(handles[moved], 0, Pattern(42, 1024));
        Assert.True(Verify(pool, handles[moved], 42, 1024));
        pool.Free(handles[moved]);
        Assert.Throws<ZsPoolException>(() => ReadAll(pool, handles[moved]));
        pool.CheckInvariants();
    }

    [Fact]
    public void Compaction_does_nothing_when_no_whole_zspage_can_be_freed()
    {
        using var pool = new ZsPool(MiB, 4096);
        var handles = Enumerable.Range(0, 8).Select(i => Store(pool, i, 1024)).ToArray();
        pool.Free(handles[0]);
        pool.Free(handles[4]); // two zspages at 3/4: only two free slots, less than one zspage
        Assert.Equal(default, pool.Compact());
        Assert.Equal(2 * ZsPool.PageSize, pool.TotalBytes);
    }

    [Fact]
    public void Compaction_neither_drains_nor_fills_a_zspage_under_reclaim()
    {
        using var pool = new ZsPool(MiB, 4096);
        var handles = Enumerable.Range(0, 12).Select(i => Store(pool, i, 1024)).ToArray();

        // Three zspages with one object each; the oldest is being reclaimed.
        foreach (int i in new[] { 1, 2, 3, 5, 6, 7, 9, 10, 11 })
        {
            pool.Free(handles[i]);
        }

        int reclaimed = pool.ZspageIdOf(handles[0]);
        Assert.True(pool.TryBeginReclaim(out ZsReclaim? reclaim));
        Assert.Equal([handles[0]], reclaim.Handles);

        ZsCompactionResult result = pool.Compact();
        Assert.Equal(1, result.PagesFreed);     // 4 and 8 merged
        Assert.Equal(reclaimed, pool.ZspageIdOf(handles[0]));
        Assert.NotEqual(reclaimed, pool.ZspageIdOf(handles[4]));
        Assert.NotEqual(reclaimed, pool.ZspageIdOf(handles[8]));
        pool.CheckInvariants();

        pool.Free(handles[0]);
        Assert.Equal(1, pool.EndReclaim(reclaim));
        Assert.True(Verify(pool, handles[4], 4, 1024) && Verify(pool, handles[8], 8, 1024));
        pool.CheckInvariants();
    }

    [Fact]
    public void Compaction_leaves_large_objects_alone()
    {
        using var pool = new ZsPool(MiB, 100_000);
        ZsHandle a = Store(pool, 1, 20_000);
        ZsHandle b = Store(pool, 2, 30_000);
        Assert.Equal(default, pool.Compact());
        Assert.True(Verify(pool, a, 1, 20_000) && Verify(pool, b, 2, 30_000));
    }

    [Fact]
    public void Compaction_across_many_classes_frees_every_freeable_page()
    {
        using var pool = new ZsPool(64 * MiB, 16_384);
        var rng = new Random(7);
        var objects = new List<(ZsHandle H, int Id, int Len)>();
        for (int i = 0; i < 5000; i++)
        {
            int len = rng.Next(1, 16_385);
            objects.Add((Store(pool, i, len), i, len));
        }

        foreach ((ZsHandle h, _, _) in objects.Where((_, i) => i % 3 != 0))
        {
            pool.Free(h);
        }

        long freeable = pool.GetStatistics().FreeablePages;
        ZsCompactionResult result = pool.Compact();
        Assert.True(result.PagesFreed >= freeable, $"freed {result.PagesFreed} of {freeable} freeable pages");
        Assert.Equal(0, pool.GetStatistics().FreeablePages);
        foreach ((ZsHandle h, int id, int len) in objects.Where((_, i) => i % 3 == 0))
        {
            Assert.True(Verify(pool, h, id, len));
        }

        pool.CheckInvariants();
    }
}
