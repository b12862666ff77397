using System.Collections.Concurrent;

namespace ZsCache.Soak;

/// <summary>What a violation of the model was.</summary>
internal enum ViolationKind
{
    /// <summary>A read returned a value superseded by a Set or Remove that completed before the read began.</summary>
    Stale,

    /// <summary>A read returned bytes that are no write's value.</summary>
    Corrupt,

    /// <summary>A read returned the value of another key.</summary>
    OtherKey,

    /// <summary>A read returned a value past its absolute expiration.</summary>
    ServedLate,

    /// <summary>A cache call threw.</summary>
    Exception,

    /// <summary>The pool held more than MaxPoolBytes.</summary>
    PoolOverLimit,
}

internal sealed record Violation(ViolationKind Kind, string Detail);

/// <summary>Why a read that returned nothing was allowed to.</summary>
internal enum MissKind
{
    /// <summary>Nothing was ever written (or nothing completed before the read began).</summary>
    NeverWritten,

    /// <summary>A Remove could be the latest write.</summary>
    Removed,

    /// <summary>The latest write could have expired.</summary>
    Expired,

    /// <summary>
    /// The read overlapped a Set of the key (a write it could return had not completed when it
    /// began) and returned neither the old value nor the new one: a spurious miss, not a stale
    /// value. Counted apart from <see cref="Lost"/>.
    /// </summary>
    DuringOverwrite,

    /// <summary>
    /// None of the above: the value was lost (dropped by the shrinker while the tier was down,
    /// lost with a Redis restart, a failed fault-in). Allowed only where the scenario allows loss.
    /// </summary>
    Lost,
}

/// <summary>
/// A per-key register history checked online: every read must return a write that could be the
/// latest at some instant of the read, as linearizability demands of a register, key by key.
/// </summary>
/// <remarks>
/// <para>Real-time order comes from one global sequence: an operation takes a number when it
/// is invoked and another when it responds, so "A completed before B began" is
/// <c>A.Responded &lt; B.Invoked</c>. For a read R, a write W is acceptable when</para>
/// <list type="number">
/// <item><description>W began before R ended (<c>W.Invoked &lt; R.Responded</c>), and</description></item>
/// <item><description>no write W' completed before R began that itself began after W completed
/// (<c>W.Responded &lt; W'.Invoked</c> and <c>W'.Responded &lt; R.Invoked</c>): W' would be
/// definitely newer than W and definitely before R.</description></item>
/// </list>
/// <para>So with concurrent writers a read may return any write that overlapped it or the latest
/// completed before it (several, when those overlapped each other). The "nothing written yet"
/// state is acceptable until the first write completes. A Remove is a write of "absent". A miss
/// is also acceptable when an acceptable Set could have expired by then; otherwise it is counted
/// as <see cref="MissKind.Lost"/> and the scenario decides whether loss was allowed.</para>
/// <para>Writes that can never again be acceptable (dominated by a completed write, for every
/// read in flight and every future read) are pruned, so each key's history stays short.</para>
/// </remarks>
internal sealed class HistoryModel
{
    private const int ViolationsKept = 50;

    private readonly KeyHistory[] _keys;
    private readonly TimeProvider _time;
    private readonly ConcurrentQueue<Violation> _violations = new();
    private readonly ConcurrentQueue<string> _lostSamples = new();
    private readonly long[] _violationCounts = new long[Enum.GetValues<ViolationKind>().Length];
    private readonly long[] _missCounts = new long[Enum.GetValues<MissKind>().Length];
    private long _sequence;
    private long _hitsChecked;

    public HistoryModel(int keys, TimeProvider time)
    {
        _keys = new KeyHistory[keys];
        for (var i = 0; i < keys; i++)
        {
            _keys[i] = new KeyHistory();
        }

        _time = time;
    }

    public long HitsChecked => Volatile.Read(ref _hitsChecked);

    public long Violations(ViolationKind kind) => Volatile.Read(ref _violationCounts[(int)kind]);

    public long TotalViolations => _violationCounts.Sum();

    public long Misses(MissKind kind) => Volatile.Read(ref _missCounts[(int)kind]);

    public IReadOnlyList<Violation> FirstViolations => _violations.ToArray();

    /// <summary>The first misses of lost values, with the key's history, for diagnosis.</summary>
    public IReadOnlyList<string> LostSamples => _lostSamples.ToArray();

    public void Report(ViolationKind kind, string detail)
    {
        Interlocked.Increment(ref _violationCounts[(int)kind]);
        if (_violations.Count < ViolationsKept)
        {
            _violations.Enqueue(new Violation(kind, detail));
        }
    }

    // ---- writes ----

    /// <summary>Registers a Set (or a Remove when <paramref name="isRemove"/>) about to be invoked.</summary>
    public WriteRecord BeginWrite(int key, long writeId, bool isRemove, long absoluteAfterTicks = 0, long slidingTicks = 0)
    {
        var record = new WriteRecord
        {
            WriteId = writeId,
            IsRemove = isRemove,
            AbsoluteAfterTicks = absoluteAfterTicks,
            SlidingTicks = slidingTicks,
        };
        var history = _keys[key];
        lock (history)
        {
            record.ClockInvokedTicks = _time.GetUtcNow().UtcTicks;
            record.Invoked = Interlocked.Increment(ref _sequence);
            history.Writes.Add(record);
        }

        return record;
    }

    /// <summary>The write returned. A write that threw is never ended: it stays concurrent with everything after it.</summary>
    public void EndWrite(int key, WriteRecord record)
    {
        var history = _keys[key];
        lock (history)
        {
            record.ClockRespondedTicks = _time.GetUtcNow().UtcTicks;
            record.Responded = Interlocked.Increment(ref _sequence);
            history.FirstCompleted = Math.Min(history.FirstCompleted, record.Responded);
            Prune(history);
        }
    }

    // ---- reads ----

    /// <summary>Registers a read about to be invoked; pass the token to <see cref="EndRead"/>.</summary>
    public ReadToken BeginRead(int key)
    {
        var history = _keys[key];
        lock (history)
        {
            var clock = _time.GetUtcNow().UtcTicks;
            var invoked = Interlocked.Increment(ref _sequence);
            history.ReadsInFlight.Add(invoked);
            return new ReadToken(key, invoked, clock);
        }
    }

    /// <summary>
    /// The read returned <paramref name="value"/> (null for a miss). Checks it against the model.
    /// Returns the miss kind for a miss, null for a hit.
    /// </summary>
    public MissKind? EndRead(in ReadToken token, ReadOnlySpan<byte> value, bool hit)
    {
        var keyIndex = -1;
        var writeId = -1L;
        if (hit)
        {
            if (TestValues.Verify(value, out keyIndex, out writeId) != TestValues.Check.Valid)
            {
                Report(ViolationKind.Corrupt, $"key {token.Key}: {value.Length} bytes that are no write's value");
                Forget(token);
                return null;
            }

            if (keyIndex != token.Key)
            {
                Report(ViolationKind.OtherKey, $"key {token.Key}: read the value of key {keyIndex} (write {writeId})");
                Forget(token);
                return null;
            }

            Interlocked.Increment(ref _hitsChecked);
        }

        var history = _keys[token.Key];
        lock (history)
        {
            var responded = Interlocked.Increment(ref _sequence);
            var clockResponded = _time.GetUtcNow().UtcTicks;
            history.ReadsInFlight.Remove(token.Invoked);

            // The latest invocation among writes completed before the read began: writes that
            // completed before it are dominated.
            var dominator = long.MinValue;
            foreach (var w in history.Writes)
            {
                if (w.Responded < token.Invoked)
                {
                    dominator = Math.Max(dominator, w.Invoked);
                }
            }

            MissKind? result = null;
            if (hit)
            {
                WriteRecord? found = null;
                foreach (var w in history.Writes)
                {
                    if (w.WriteId == writeId && !w.IsRemove)
                    {
                        found = w;
                        break;
                    }
                }

                if (found is null || !Acceptable(found, dominator, responded))
                {
                    Report(ViolationKind.Stale, $"key {token.Key}: read write {writeId}, which a write completed before the read began had superseded ({Describe(history, token.Invoked, responded)})");
                }
                else if (found.AbsoluteAfterTicks > 0 && found.Responded != long.MaxValue && token.ClockInvokedTicks >= found.ClockRespondedTicks + found.AbsoluteAfterTicks)
                {
                    Report(ViolationKind.ServedLate, $"key {token.Key}: write {writeId} expired at the latest {new DateTimeOffset(found.ClockRespondedTicks + found.AbsoluteAfterTicks, TimeSpan.Zero):O}, read at {new DateTimeOffset(token.ClockInvokedTicks, TimeSpan.Zero):O}");
                }
            }
            else
            {
                result = ClassifyMiss(history, token, dominator, responded, clockResponded);
                Interlocked.Increment(ref _missCounts[(int)result.Value]);
                if (result == MissKind.Lost && _lostSamples.Count < ViolationsKept)
                {
                    _lostSamples.Enqueue($"key {token.Key}: {Describe(history, token.Invoked, responded)}");
                }
            }

            Prune(history);
            return result;
        }
    }

    /// <summary>The read threw: it is no longer in flight and has nothing to check.</summary>
    public void AbandonRead(in ReadToken token) => Forget(token);

    private void Forget(in ReadToken token)
    {
        var history = _keys[token.Key];
        lock (history)
        {
            history.ReadsInFlight.Remove(token.Invoked);
        }
    }

    private static bool Acceptable(WriteRecord w, long dominator, long readResponded) =>
        w.Invoked < readResponded && w.Responded >= dominator;

    private static MissKind ClassifyMiss(KeyHistory history, in ReadToken token, long dominator, long responded, long clockResponded)
    {
        if (history.FirstCompleted > token.Invoked)
        {
            return MissKind.NeverWritten;
        }

        var expired = false;
        var overlapped = false;
        foreach (var w in history.Writes)
        {
            if (!Acceptable(w, dominator, responded))
            {
                continue;
            }

            if (w.IsRemove)
            {
                return MissKind.Removed;
            }

            var life = w.AbsoluteAfterTicks > 0 ? w.AbsoluteAfterTicks : w.SlidingTicks;
            if (life > 0 && clockResponded >= w.ClockInvokedTicks + life)
            {
                expired = true;
            }

            overlapped |= w.Responded > token.Invoked;
        }

        return expired ? MissKind.Expired : overlapped ? MissKind.DuringOverwrite : MissKind.Lost;
    }

    /// <summary>Drops writes no read in flight and no future read can accept.</summary>
    private void Prune(KeyHistory history)
    {
        var bound = Volatile.Read(ref _sequence) + 1;
        foreach (var r in history.ReadsInFlight)
        {
            bound = Math.Min(bound, r);
        }

        var dominator = long.MinValue;
        foreach (var w in history.Writes)
        {
            if (w.Responded < bound)
            {
                dominator = Math.Max(dominator, w.Invoked);
            }
        }

        if (dominator != long.MinValue)
        {
            history.Writes.RemoveAll(w => w.Responded < dominator);
        }
    }

    private static string Describe(KeyHistory history, long invoked, long responded) =>
        $"read [{invoked}, {responded}]; writes " + string.Join("; ", history.Writes.Select(w =>
            $"{(w.IsRemove ? "remove" : "set")} {w.WriteId} [{w.Invoked}, {(w.Responded == long.MaxValue ? "pending" : w.Responded)}]"));

    private sealed class KeyHistory
    {
        public readonly List<WriteRecord> Writes = [];
        public readonly List<long> ReadsInFlight = [];
        public long FirstCompleted = long.MaxValue;
    }
}

/// <summary>One Set or Remove in a key's history.</summary>
internal sealed class WriteRecord
{
    public long WriteId { get; init; }

    public bool IsRemove { get; init; }

    public long AbsoluteAfterTicks { get; init; }

    public long SlidingTicks { get; init; }

    public long Invoked { get; set; }

    public long Responded { get; set; } = long.MaxValue;

    public long ClockInvokedTicks { get; set; }

    public long ClockRespondedTicks { get; set; }
}

/// <summary>A read in flight.</summary>
internal readonly record struct ReadToken(int Key, long Invoked, long ClockInvokedTicks);
