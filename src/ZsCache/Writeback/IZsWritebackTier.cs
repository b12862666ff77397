namespace ZsCache.Writeback;

/// <summary>
/// The second tier a <see cref="ZsDistributedCache"/> writes cold values back to and faults
/// them in from: the counterpart of zswap's swap device. <c>ZsCache.Redis</c> implements it.
/// </summary>
/// <remarks>
/// <para>Every value carries a <see cref="ZsWritebackItem.Version"/> that grows with time. The
/// tier keeps the rule that makes <c>Remove</c> and a newer <c>Set</c> final across writebacks
/// still in flight, on this instance or another:</para>
/// <list type="number">
/// <item><description>A value is stored only when the tier holds nothing for the key, or something
/// with a smaller version, or a fence of exactly the same version.</description></item>
/// <item><description>A fence (<see cref="FenceAsync"/>) of version V replaces whatever the tier holds
/// with a version below V, and then makes every later store of a version below V a no-op, for at
/// least <see cref="FenceLifetime"/>.</description></item>
/// <item><description>A read never returns a fence; it reads as a miss.</description></item>
/// </list>
/// <para>Implementations never throw for faults of the tier itself (down, slow, refusing,
/// corrupt data): they log, count and report failure through return values, so the cache can
/// degrade instead of failing requests. They throw only for programming errors.</para>
/// </remarks>
public interface IZsWritebackTier
{
    /// <summary>
    /// How long a fence keeps older stores out. Writebacks whose attempts could still land later
    /// than this after they began are abandoned by the implementation (its timeouts are shorter).
    /// </summary>
    TimeSpan FenceLifetime { get; }

    /// <summary>True while the tier is believed reachable (for example, its circuit is closed).</summary>
    bool IsAvailable { get; }

    /// <summary>
    /// True while the tier is believed to take writes. A tier can serve reads and refuse writes
    /// (Redis at <c>maxmemory</c> with <c>noeviction</c>, a read-only replica): then the cache
    /// keeps faulting values in but drops cold entries instead of writing them back, and stores
    /// that do not fit displace cold entries instead of going to the tier. Defaults to
    /// <see cref="IsAvailable"/>.
    /// </summary>
    bool AcceptsWrites => IsAvailable;

    /// <summary>
    /// Stores a batch (the objects of one zspage) in as few round trips as the tier allows.
    /// Sets <see cref="ZsWritebackItem.Outcome"/> of every item; never throws for tier faults.
    /// </summary>
    /// <param name="items">The objects to store; keys are the cache's keys, without any prefix.</param>
    /// <param name="cancellationToken">Cancels the whole batch (items not confirmed are <see cref="ZsWritebackOutcome.Failed"/>).</param>
    ValueTask WriteAsync(IReadOnlyList<ZsWritebackItem> items, CancellationToken cancellationToken);

    /// <summary>
    /// Reads the value stored for <paramref name="key"/>. Returns null for a miss, a fence, an
    /// expired value, bytes that are not a valid payload (logged as a warning), or a tier fault.
    /// When the value has a sliding window, the implementation renews its time to live to
    /// <c>min(now + sliding, absolute)</c> using <paramref name="now"/>.
    /// </summary>
    /// <param name="key">The cache key, without any prefix.</param>
    /// <param name="now">The cache's current time (from its <see cref="TimeProvider"/>).</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    ValueTask<ZsWritebackValue?> ReadAsync(string key, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// Supersedes every stored copy of <paramref name="key"/> older than <paramref name="version"/>
    /// (a <c>Remove</c>, or a <c>Set</c> of that version, happened). Returns false when the tier
    /// could not confirm it; the caller keeps the key fenced locally and tries again later.
    /// </summary>
    /// <param name="key">The cache key, without any prefix.</param>
    /// <param name="version">The version of the Remove or Set.</param>
    /// <param name="cancellationToken">Cancels the fence.</param>
    ValueTask<bool> FenceAsync(string key, long version, CancellationToken cancellationToken);

    /// <summary>
    /// Renews the sliding expiration of a stored value, without reading it, as
    /// <c>IDistributedCache.Refresh</c> does. Returns false on a miss or a tier fault.
    /// </summary>
    /// <param name="key">The cache key, without any prefix.</param>
    /// <param name="now">The cache's current time.</param>
    /// <param name="cancellationToken">Cancels the refresh.</param>
    ValueTask<bool> RefreshAsync(string key, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// Asks the tier to report the fences that other caches sharing it write (their Sets and
    /// Removes), so this cache can drop older copies of those keys from its own pool: without
    /// it, a value another instance replaced or removed could be served from this pool until it
    /// expires or is evicted. The cache calls this once, as it starts. The tier calls
    /// <paramref name="fenced"/> with the key (without any prefix) and the fence's version, from
    /// any thread, possibly more than once or out of order, and never for fences this very tier
    /// wrote. Delivery is best effort: a report lost while the tier is unreachable is not
    /// repeated. The default does nothing, for a tier that no other cache shares; a tier that wraps
    /// another (to count or gate its calls) must pass this call on, or the cache it serves stops
    /// hearing of the other instances.
    /// </summary>
    /// <param name="fenced">Called with the key and version of each fence written elsewhere; must not block.</param>
    void SubscribeToFences(Action<string, long> fenced)
    {
    }
}

/// <summary>What became of one object handed to <see cref="IZsWritebackTier.WriteAsync"/>.</summary>
public enum ZsWritebackOutcome
{
    /// <summary>Not attempted yet.</summary>
    Pending = 0,

    /// <summary>Stored: the pool may free its copy.</summary>
    Written = 1,

    /// <summary>The tier holds something newer (a later value or a fence): the object is obsolete and may be freed.</summary>
    Superseded = 2,

    /// <summary>Not stored (fault, timeout, refusal): the object stays in the pool.</summary>
    Failed = 3,
}

/// <summary>The codecs a stored value can carry. The numbers are written to the tier; never renumber.</summary>
public enum ZsCodec : byte
{
    /// <summary>Stored as given.</summary>
    Raw = 0,

    /// <summary>LZ4 block format (K4os.Compression.LZ4 <c>LZ4Codec</c>).</summary>
    Lz4 = 1,
}

/// <summary>One object on its way to the writeback tier.</summary>
public sealed class ZsWritebackItem
{
    /// <summary>The cache key, without the instance prefix.</summary>
    public required string Key { get; init; }

    /// <summary>The entry's version; larger is newer.</summary>
    public required long Version { get; init; }

    /// <summary>The codec <see cref="Data"/> is encoded with.</summary>
    public required ZsCodec Codec { get; init; }

    /// <summary>The dictionary the codec used; 0 = none. Readers reject ids they do not know.</summary>
    public byte DictionaryId { get; init; }

    /// <summary>Length of the value once decoded.</summary>
    public required int OriginalLength { get; init; }

    /// <summary>The value as the pool held it (compressed or raw); not recompressed.</summary>
    public required ReadOnlyMemory<byte> Data { get; init; }

    /// <summary>When the entry expires whatever happens, if ever.</summary>
    public DateTimeOffset? AbsoluteExpiration { get; init; }

    /// <summary>The sliding window, if any.</summary>
    public TimeSpan? SlidingExpiration { get; init; }

    /// <summary>The entry's remaining life at the time of writing: the tier's time to live. Positive.</summary>
    public required TimeSpan TimeToLive { get; init; }

    /// <summary>Set by the tier.</summary>
    public ZsWritebackOutcome Outcome { get; set; }
}

/// <summary>A value read back from the writeback tier.</summary>
public sealed class ZsWritebackValue
{
    /// <summary>The version it was written with.</summary>
    public required long Version { get; init; }

    /// <summary>The codec of <see cref="Data"/>.</summary>
    public required ZsCodec Codec { get; init; }

    /// <summary>The codec's dictionary; 0 = none.</summary>
    public byte DictionaryId { get; init; }

    /// <summary>Length once decoded; checked against the cache's MaxValueBytes by the reader.</summary>
    public required int OriginalLength { get; init; }

    /// <summary>The stored bytes, as the pool held them.</summary>
    public required ReadOnlyMemory<byte> Data { get; init; }

    /// <summary>The absolute expiration, if any.</summary>
    public DateTimeOffset? AbsoluteExpiration { get; init; }

    /// <summary>The sliding window, if any.</summary>
    public TimeSpan? SlidingExpiration { get; init; }
}
