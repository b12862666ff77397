using System.Diagnostics;

namespace ZsCache.Pool;

/// <summary>
/// A zspage's migrate lock (the kernel's <c>zspage->lock</c> rwlock): readers are
/// <see cref="ZsPool.Read{TState, TResult}"/> and <see cref="ZsPool.Write"/>, which touch one
/// object's bytes in place; writers are the operations that take a slot away from its
/// object (free, compaction's move, freeing the zspage).
/// </summary>
/// <remarks>
/// A spinning reader/writer lock of two ints, because there is one per zspage (tens of
/// thousands) and a <see cref="ReaderWriterLockSlim"/> would cost an object and ~100 bytes
/// each. Readers hold it for one copy or decompression; writers are rare and short. A
/// waiting writer blocks new readers, so a steady stream of reads cannot starve compaction.
/// Not reentrant: a reader must not take the same guard again (the nested read would wait
/// for the waiting writer, which waits for the outer read).
/// </remarks>
internal struct ZsMigrateLock
{
    private const int WriteHeld = -1;

    // > 0: number of readers; 0: free; WriteHeld: a writer holds it.
    private int _state;

    // Writers waiting to enter; new readers back off while it is non-zero.
    private int _writersWaiting;

    /// <summary>Enters as a reader; spins (then yields, then sleeps) while a writer holds or waits.</summary>
    public void EnterRead()
    {
        var spin = default(SpinWait);
        while (true)
        {
            if (Volatile.Read(ref _writersWaiting) == 0)
            {
                int state = Volatile.Read(ref _state);
                if (state >= 0 && Interlocked.CompareExchange(ref _state, state + 1, state) == state)
                {
                    return;
                }
            }

            spin.SpinOnce();
        }
    }

    /// <summary>Leaves as a reader.</summary>
    public void ExitRead()
    {
        int after = Interlocked.Decrement(ref _state);
        Debug.Assert(after >= 0, "ExitRead without a matching EnterRead");
    }

    /// <summary>Enters as the writer; waits for the readers inside to leave.</summary>
    public void EnterWrite()
    {
        Interlocked.Increment(ref _writersWaiting);
        var spin = default(SpinWait);
        while (Interlocked.CompareExchange(ref _state, WriteHeld, 0) != 0)
        {
            spin.SpinOnce();
        }

        Interlocked.Decrement(ref _writersWaiting);
    }

    /// <summary>Leaves as the writer.</summary>
    public void ExitWrite()
    {
        Debug.Assert(Volatile.Read(ref _state) == WriteHeld, "ExitWrite without EnterWrite");
        Volatile.Write(ref _state, 0);
    }

    /// <summary>True while a writer holds the lock (for assertions).</summary>
    public bool IsWriteHeld => Volatile.Read(ref _state) == WriteHeld;
}
