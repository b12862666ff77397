using System.Buffers.Binary;
using Xunit.Abstractions;
using ZsCache.Pool;
using static ZsCache.Tests.Pool.PoolTestData;

namespace ZsCache.Tests.Pool;

/// <summary>
/// Bounded stress: writers, readers, a compactor and a reclaimer run at once on one pool for
/// fixed operation counts (no sleeps, no timing). Every object is self-describing (its id,
/// its registry slot, then the id's pattern), so any reader can tell a torn, moved or
/// foreign byte from the right one.
/// </summary>
public class PoolConcurrencyTests(ITestOutputHelper output)
{
    private const int HeaderBytes = 12; // id (8) + registry slot (4)

    private sealed record Published(ZsHandle Handle, long Id, int Length);

    private static void Fill(Span<byte> object_, long id, int slot)
    {
        BinaryPrimitives.WriteInt64LittleEndian(object_, id);
        BinaryPrimitives.WriteInt32LittleEndian(object_[8..], slot);
        PoolTestData.Fill(object_[HeaderBytes..], id);
    }

    private static bool IsIntact(ReadOnlySpan<byte> data, long id, int slot, int length) =>
        data.Length == length
        && BinaryPrimitives.ReadInt64LittleEndian(data) == id
        && BinaryPrimitives.ReadInt32LittleEndian(data[8..]) == slot
        && PoolTestData.MatchesPattern(data[HeaderBytes..], id, length - HeaderBytes);

    [Fact]
    public void Readers_never_see_torn_or_moved_bytes_while_writers_compaction_and_reclaim_run()
    {
        // Writers and readers do fixed amounts of work; the compactor and reclaimer run while
        // the writers run (and at least MinRounds times), so the run is bounded by work, not
        // by time. Once the writers are done, a reader counts an empty slot as a done read.
        const int Slots = 1024;
        const int WriterOps = 5000;
        const int ReaderOps = 10_000; // reads of published objects, per reader
        const int Cap = 2_000_000;  // safety net only: a deadlock fails instead of hanging
        const int MinRounds = 20;   // the compactor and reclaimer run at least this often
        int writersRunning = 2;

        using var pool = new ZsPool(8L * 1024 * 1024, 24_000);
        var registry = new Published?[Slots];
        long nextId = 0;
        long reads = 0, staleReads = 0, emptyReads = 0, corrupt = 0, writes = 0, allocFailures = 0;
        long pagesCompacted = 0, reclaimedPages = 0, evicted = 0;
        var errors = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        using var start = new Barrier(6);

        var threads = new List<Thread>();
        void Spawn(Action body)
        {
            var t = new Thread(() =>
            {
                start.SignalAndWait();
                try
                {
                    body();
                }
                catch (Exception ex)
                {
                    errors.Enqueue(ex);
                }
            });
            threads.Add(t);
            t.Start();
        }

        bool WritersRunning() => Volatile.Read(ref writersRunning) > 0;

        void Writer(int seed)
        {
            try
            {
                WriterLoop(seed);
            }
            finally
            {
                Interlocked.Decrement(ref writersRunning);
            }
        }

        void WriterLoop(int seed)
        {
            var rng = new Random(seed);
            for (int op = 0; op < WriterOps; op++)
            {
                int slot = rng.Next(Slots);
                if (Interlocked.Exchange(ref registry[slot], null) is { } old)
                {
                    pool.Free(old.Handle);
                }

                if (rng.Next(4) == 0)
                {
                    continue; // a bare free: leaves holes for compaction
                }

                int length = rng.Next(8) == 0 ? rng.Next(4097, 24_001) : rng.Next(HeaderBytes, 4097);
                if (!pool.TryMalloc(length, out ZsHandle h))
                {
                    Interlocked.Increment(ref allocFailures);
                    continue;
                }

                long id = Interlocked.Increment(ref nextId);
                byte[] content = new byte[length];
                Fill(content, id, slot);

                // Two writes, so a compaction can move the object between them: the second
                // must land in the object's new place, not its old one.
                int half = length / 2;
                pool.Write(h, 0, content.AsSpan(0, half));
                pool.Write(h, half, content.AsSpan(half));
                if (!pool.Read(h, (id, slot, length), static (d, s) => IsIntact(d, s.id, s.slot, s.length)))
                {
                    Interlocked.Increment(ref corrupt);
                }

                Interlocked.Increment(ref writes);
                if (Interlocked.Exchange(ref registry[slot], new Published(h, id, length)) is { } displaced)
                {
                    pool.Free(displaced.Handle);
                }
            }
        }

        void Reader(int seed)
        {
            var rng = new Random(seed);
            for (int op = 0, spins = 0; op < ReaderOps && spins < Cap; spins++)
            {
                int slot = rng.Next(Slots);
                if (Volatile.Read(ref registry[slot]) is not { } p)
                {
                    if (WritersRunning())
                    {
                        Thread.Yield(); // let the writers publish rather than spin on empty slots
                    }
                    else
                    {
                        op++;
                        Interlocked.Increment(ref emptyReads);
                    }

                    continue;
                }

                op++;

                bool ok;
                try
                {
                    ok = pool.Read(p.Handle, (p.Id, slot, p.Length), static (d, s) => IsIntact(d, s.Id, s.slot, s.Length));
                }
                catch (ZsPoolException)
                {
                    // Freed by a writer or the reclaimer meanwhile: the only acceptable failure.
                    Interlocked.Increment(ref staleReads);
                    continue;
                }

                Interlocked.Increment(ref ok ? ref reads : ref corrupt);
                if (op % 16 == 0 && pool.IsLive(p.Handle))
                {
                    try
                    {
                        pool.Touch(p.Handle);
                    }
                    catch (ZsPoolException)
                    {
                        // freed between the check and the touch
                    }
                }
            }
        }

        void Compactor()
        {
            for (int i = 0; i < Cap && (i < MinRounds || WritersRunning()); i++)
            {
                Interlocked.Add(ref pagesCompacted, pool.Compact().PagesFreed);
                Thread.Yield();
            }
        }

        void Reclaimer()
        {
            for (int i = 0; i < Cap && (i < MinRounds || WritersRunning()); i++)
            {
                Thread.Yield();
                if (!pool.TryBeginReclaim(out ZsReclaim? reclaim))
                {
                    continue;
                }

                try
                {
                    foreach (ZsHandle h in reclaim.Handles)
                    {
                        // "Write back": read the self-describing object, then evict it if it
                        // is published (unpublished ones belong to a writer: skip, as a
                        // refusing tier would). Every fifth zspage is refused outright.
                        (long Id, int Slot) seen;
                        try
                        {
                            seen = pool.Read(h, 0, static (d, _) =>
                                (BinaryPrimitives.ReadInt64LittleEndian(d), BinaryPrimitives.ReadInt32LittleEndian(d[8..])));
                        }
                        catch (ZsPoolException)
                        {
                            continue; // freed meanwhile
                        }

                        // Only a published object is complete: a writer may be between its two
                        // writes, with the id in place and the second half still zeros.
                        if (seen.Id == 0 || (uint)seen.Slot >= Slots
                            || Volatile.Read(ref registry[seen.Slot]) is not { } p || p.Handle != h)
                        {
                            continue;
                        }

                        try
                        {
                            if (!pool.Read(h, (p.Id, seen.Slot, p.Length), static (d, s) => IsIntact(d, s.Id, s.Slot, s.Length)))
                            {
                                Interlocked.Increment(ref corrupt);
                            }
                        }
                        catch (ZsPoolException)
                        {
                            continue; // freed meanwhile
                        }

                        if (i % 5 != 0 && Interlocked.CompareExchange(ref registry[seen.Slot], null, p) == p)
                        {
                            pool.Free(h);
                            Interlocked.Increment(ref evicted);
                        }
                    }
                }
                finally
                {
                    Interlocked.Add(ref reclaimedPages, pool.EndReclaim(reclaim));
                }
            }
        }

        Spawn(() => Writer(1));
        Spawn(() => Writer(2));
        Spawn(() => Reader(3));
        Spawn(() => Reader(4));
        Spawn(Compactor);
        Spawn(Reclaimer);
        foreach (Thread t in threads)
        {
            t.Join();
        }

        Assert.Empty(errors);
        Assert.Equal(0, Interlocked.Read(ref corrupt));
        Assert.True(reads + staleReads + emptyReads == 2 * ReaderOps, $"{reads} good + {staleReads} stale + {emptyReads} empty reads");
        // Enough reads raced the writers to mean something. On a starved machine the writers can
        // finish (and the reclaimer empty their slots) before the readers get going, so this
        // cannot ask for most reads to succeed.
        Assert.True(reads > 100, $"only {reads} successful reads");
        Assert.True(writes > 1000, $"only {writes} writes");
        Assert.True(pool.TotalBytes <= pool.MaxBytes);
        pool.CheckInvariants();

        // Everything still published is intact; freeing it all leaves nothing behind.
        for (int slot = 0; slot < Slots; slot++)
        {
            if (registry[slot] is { } p)
            {
                Assert.True(pool.Read(p.Handle, (p.Id, slot, p.Length), static (d, s) => IsIntact(d, s.Id, s.slot, s.Length)));
                pool.Free(p.Handle);
            }
        }

        Assert.Equal(0, pool.TotalBytes);
        pool.CheckInvariants();
        ZsPoolStatistics stats = pool.GetStatistics();
        Assert.True(stats.ReclaimsBegun > 0 && stats.ObjectsMoved > 0, $"reclaims {stats.ReclaimsBegun}, moved {stats.ObjectsMoved}: the stress did not exercise both");
        output.WriteLine(
            $"writes {writes}, reads {reads}, stale reads {staleReads}, empty {emptyReads}, alloc failures {allocFailures}, " +
            $"compacted pages {pagesCompacted}, objects moved {stats.ObjectsMoved}, reclaims {stats.ReclaimsBegun}, " +
            $"reclaimed pages {reclaimedPages}, evicted {evicted}, deferred frees {stats.DeferredFrees}");
    }

    [Fact]
    public void Reads_and_writes_racing_compaction_moves_see_and_keep_each_object_whole()
    {
        // Rounds of: fill one class, free a random half, then compact while readers read
        // the survivors and a writer rewrites its own survivors. Nothing is freed during a
        // round, so every read must succeed and be intact, and no write may be lost.
        const int Objects = 1500;
        const int Rounds = 12;
        using var pool = new ZsPool(16L * 1024 * 1024, 4096);
        var rng = new Random(11);
        long movedTotal = 0, readsTotal = 0;
        for (int round = 0; round < Rounds; round++)
        {
            var handles = new ZsHandle[Objects];
            var ids = new long[Objects];
            for (int i = 0; i < Objects; i++)
            {
                ids[i] = (round * 1_000_000L) + i;
                handles[i] = Store(pool, ids[i], 200);
            }

            var survivors = Enumerable.Range(0, Objects).Where(_ => rng.Next(2) == 0).ToArray();
            foreach (int i in Enumerable.Range(0, Objects).Except(survivors))
            {
                pool.Free(handles[i]);
            }

            // Readers take the even survivors, the writer the odd ones.
            int[] readable = survivors.Where((_, k) => k % 2 == 0).ToArray();
            int[] writable = survivors.Where((_, k) => k % 2 == 1).ToArray();
            int compacting = 1;
            long bad = 0, reads = 0;
            var errors = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
            using var start = new Barrier(4);
            var threads = new[]
            {
                new Thread(() => Guard(() =>
                {
                    movedTotal += pool.Compact().ObjectsMoved;
                    Volatile.Write(ref compacting, 0);
                })),
                new Thread(() => Guard(() => ReadLoop(0))),
                new Thread(() => Guard(() => ReadLoop(1))),
                new Thread(() => Guard(() =>
                {
                    for (int v = 1; Volatile.Read(ref compacting) == 1 || v < 3; v++)
                    {
                        foreach (int i in writable)
                        {
                            long id = ids[i] + (v * 10_000L);
                            pool.Write(handles[i], 0, Pattern(id, 100));        // two halves, so a
                            pool.Write(handles[i], 100, Pattern(id, 200)[100..]); // move can fall between
                            ids[i] = id;
                            if (!Verify(pool, handles[i], id, 200))
                            {
                                Interlocked.Increment(ref bad);
                            }
                        }
                    }
                })),
            };

            void ReadLoop(int offset)
            {
                do
                {
                    for (int k = offset; k < readable.Length; k += 2)
                    {
                        int i = readable[k];
                        Interlocked.Increment(ref Verify(pool, handles[i], ids[i], 200) ? ref reads : ref bad);
                    }
                }
                while (Volatile.Read(ref compacting) == 1);
            }

            void Guard(Action body)
            {
                start.SignalAndWait();
                try
                {
                    body();
                }
                catch (Exception ex)
                {
                    errors.Enqueue(ex);
                }
            }

            foreach (Thread t in threads)
            {
                t.Start();
            }

            foreach (Thread t in threads)
            {
                t.Join();
            }

            Assert.Empty(errors);
            Assert.Equal(0, bad);
            readsTotal += reads;
            foreach (int i in survivors)
            {
                Assert.True(Verify(pool, handles[i], ids[i], 200));
                pool.Free(handles[i]);
            }

            pool.CheckInvariants();
            Assert.Equal(0, pool.TotalBytes);
        }

        Assert.True(movedTotal > Rounds * 100, $"only {movedTotal} objects moved");
        output.WriteLine($"moved {movedTotal}, racing reads {readsTotal}");
    }
}
