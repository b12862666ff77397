using System.Diagnostics;
using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;
using StackExchange.Redis;
using ZsCache.Writeback;

namespace ZsCache.Redis.Internal;

/// <summary>
/// Redis as ZsCache's writeback tier: zswap's swap device. One payload (<see cref="RedisPayload"/>)
/// per key, under <c>InstanceName + key</c> as RedisCache names its keys.
/// </summary>
/// <remarks>
/// <para>The protocol, in the words of <see cref="IZsWritebackTier"/>:</para>
/// <list type="number">
/// <item><description>Write: every object of a batch is one <see cref="RedisScripts.Write"/> call; all
/// are sent before any is awaited, so a zspage goes out in one round trip. Each call carries a
/// server-side deadline (<see cref="ZsRedisOptions.WriteDeadline"/> after the batch began), so a
/// write the client abandoned can never land later, when a fence it raced with may have expired.</description></item>
/// <item><description>Fence: <see cref="RedisScripts.Fence"/>, a tombstone payload kept for
/// <see cref="FenceLifetime"/>, published on the fence channel for the other instances' pools
/// (<see cref="SubscribeToFences"/>).</description></item>
/// <item><description>Read: <c>GETRANGE</c> of the first <see cref="FirstReadBytes"/>, and only for a longer value
/// <see cref="RedisScripts.Read"/> (bounded: the length is checked before anything is transferred), decode, drop fences and expired
/// values, renew a sliding window with <see cref="RedisScripts.Renew"/> (only if the key still
/// holds the value read).</description></item>
/// <item><description>Refresh: <see cref="RedisScripts.ReadHeader"/> (header and length only), then the same renewal.</description></item>
/// </list>
/// <para>Every call goes through one Polly pipeline: total timeout, retry with jitter on
/// transient faults, circuit breaker, attempt timeout. Nothing a Redis fault raises escapes:
/// it is logged and reported as <see cref="ZsWritebackOutcome.Failed"/>, null or false. The
/// multiplexer is created lazily, once, and disposed here only if it was created here.</para>
/// </remarks>
internal sealed partial class RedisWritebackTier : IZsWritebackTier, IAsyncDisposable, IDisposable
{
    private readonly ZsRedisOptions _options;
    private readonly ILogger _logger;
    private readonly string _prefix;
    private readonly RedisPayloadLimits _limits;
    private readonly long _readCap;

    /// <summary>The largest payload a read accepts (the benchmarks read it).</summary>
    internal long ReadCap => _readCap;

    private readonly ResiliencePipeline _pipeline;
    private readonly CircuitBreakerStateProvider _circuit = new();

    /// <summary>
    /// How long writes pause after a refusal: short, because while it lasts nothing leaves the
    /// pool and stores that need room evict a value or are dropped, where a recovered Redis
    /// could have taken them (one failed probe a second is cheap).
    /// </summary>
    private TimeSpan WriteRefusalPause => _options.BreakDuration < TimeSpan.FromSeconds(1) ? _options.BreakDuration : TimeSpan.FromSeconds(1);

    /// <summary>Environment.TickCount64 until which writes are not attempted after Redis refused one.</summary>
    private long _writesRefusedUntil;

    /// <summary>
    /// The longest time to live (PX, PEXPIRE) the tier asks of Redis: 100 years. Far beyond any
    /// cache entry's use, and far inside what every server accepts: Garnet refuses a PEXPIRE
    /// whose deadline is past 9999-12-31 and a SET PX past <see cref="long.MaxValue"/> ticks
    /// (so the core's "never", <see cref="TimeSpan.MaxValue"/>, is refused outright), and
    /// redis-server one past about 292 million years. Expiry that needs a longer life is in the
    /// header, which readers check against their own clock.
    /// </summary>
    internal const long MaxTimeToLiveMs = 36_525L * 24 * 60 * 60 * 1000;

    public RedisWritebackTier(IOptions<ZsRedisOptions> options, IOptions<ZsCacheOptions> cacheOptions, ILogger<RedisWritebackTier> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(cacheOptions);
        ArgumentNullException.ThrowIfNull(logger);
        _options = options.Value;
        _logger = logger;
        var cache = cacheOptions.Value;
        _prefix = cache.InstanceName ?? string.Empty;

        // Caps for the decoder: no value longer than MaxValueBytes exists, and LZ4 data is at most
        // its worst-case expansion of that.
        var maxOriginal = (int)Math.Clamp(cache.MaxValueBytes, 0, Array.MaxLength / 2);
        _limits = new RedisPayloadLimits(maxOriginal, maxOriginal + (maxOriginal / 255) + 16);
        _readCap = RedisPayload.MaxLength(_limits);
        _pipeline = BuildPipeline();
    }

    /// <inheritdoc />
    public TimeSpan FenceLifetime => _options.FenceLifetime;

    /// <inheritdoc />
    /// <remarks>
    /// An open circuit whose break has run out counts as available: the breaker moves to half-open
    /// only when a call comes through it, and a cache that asks this before calling would otherwise
    /// never make that call (a shrinker that drops instead of writing back, for good).
    /// </remarks>
    public bool IsAvailable =>
        (_circuit.CircuitState is CircuitState.Closed or CircuitState.HalfOpen
            || (_circuit.CircuitState is CircuitState.Open && !InCircuitBreak))
        && IsConnected;

    /// <summary>True while the open circuit's break lasts (no call goes through until it ends).</summary>
    internal bool InCircuitBreak => Environment.TickCount64 < Volatile.Read(ref _circuitOpenUntil);

    /// <summary>
    /// Environment.TickCount64 at which the open circuit's break ends; <see cref="long.MaxValue"/>
    /// whenever the circuit is not known to be in a break that has an end. Polly sets the state to
    /// Open before it runs OnOpened, so between the two this must not read as a break run out.
    /// </summary>
    private long _circuitOpenUntil = long.MaxValue;

    /// <summary>False when the multiplexer exists and is not connected; true before it exists (only a call can tell).</summary>
    internal bool IsConnected => ConnectedMultiplexer is not { } connection || connection.IsConnected;

    /// <inheritdoc />
    public bool AcceptsWrites => IsAvailable && !RefusingWrites;

    /// <summary>True while Redis is known to refuse writes (full, read-only, failing to persist).</summary>
    internal bool RefusingWrites => Environment.TickCount64 < Volatile.Read(ref _writesRefusedUntil);

    /// <summary>
    /// True from a refused write until a write succeeds again: the episode, not the pause
    /// between probes, so the log line and the health check do not flap once a second.
    /// </summary>
    internal bool InWriteRefusal => Volatile.Read(ref _refusalEpisode) != 0;

    private int _refusalEpisode;

    /// <summary>The breaker's state, for the health check.</summary>
    internal CircuitState CircuitState => _circuit.CircuitState;

    private RedisKey KeyOf(string key) => _prefix + key;

    // ---- the pipeline ----

    private ResiliencePipeline BuildPipeline()
    {
        // Outer to inner: the total timeout bounds everything (and stays below the write deadline,
        // see ZsRedisOptions); retry re-runs attempts; the breaker sees every attempt; the attempt
        // timeout cancels a single slow one. Polly runs on the real clock whatever TimeProvider
        // the cache uses: a fake clock in tests must not freeze network timeouts.
        return new ResiliencePipelineBuilder()
            .AddTimeout(_options.TotalTimeout)
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = args => ValueTask.FromResult(IsTransient(args.Outcome.Exception)),
                MaxRetryAttempts = Math.Max(_options.RetryCount, 0),
                Delay = _options.RetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
            })
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                ShouldHandle = args => ValueTask.FromResult(IsTierFault(args.Outcome.Exception)),
                FailureRatio = _options.BreakerFailureRatio,
                MinimumThroughput = _options.BreakerMinimumThroughput,
                SamplingDuration = _options.BreakerSamplingDuration,
                BreakDuration = _options.BreakDuration,
                StateProvider = _circuit,
                OnOpened = args =>
                {
                    Volatile.Write(ref _circuitOpenUntil, Environment.TickCount64 + (long)args.BreakDuration.TotalMilliseconds);
                    Log.CircuitOpened(_logger, args.BreakDuration, args.Outcome.Exception);
                    return ValueTask.CompletedTask;
                },
                OnClosed = _ =>
                {
                    Volatile.Write(ref _circuitOpenUntil, long.MaxValue);
                    Log.CircuitClosed(_logger);
                    return ValueTask.CompletedTask;
                },
                OnHalfOpened = _ =>
                {
                    Volatile.Write(ref _circuitOpenUntil, long.MaxValue);
                    Log.CircuitHalfOpened(_logger);
                    return ValueTask.CompletedTask;
                },
            })
            .AddTimeout(_options.AttemptTimeout)
            .Build();
    }

    /// <summary>Faults worth another attempt: the connection, or time.</summary>
    private static bool IsTransient(Exception? exception) =>
        exception is RedisConnectionException or RedisTimeoutException or TimeoutRejectedException;

    /// <summary>
    /// Faults of the tier the breaker counts: transient ones, and a server refusing work (LOADING,
    /// BUSY, ...). A refusal of writes alone is not one: reads still work, and opening the breaker
    /// would cut them off too (see <see cref="NoteIfWritesRefused"/>).
    /// </summary>
    private static bool IsTierFault(Exception? exception) =>
        IsTransient(exception) || (exception is RedisServerException server && !IsWrongType(server) && !IsWriteRefusal(server));

    /// <summary>Errors of a server that refuses writes and still serves reads: full with noeviction, a read-only replica, a failing RDB save.</summary>
    private static bool IsWriteRefusal(RedisServerException exception) => WriteRefusalCode(exception) is not null;

    /// <summary>
    /// The error code of a write refusal, or null. A refusal inside a script arrives bare on
    /// Redis 7 ("OOM command not allowed ...") and wrapped on Redis 6 ("ERR Error running
    /// script ...: -OOM command not allowed ..."): both count.
    /// </summary>
    internal static string? WriteRefusalCode(RedisServerException exception)
    {
        foreach (var code in (ReadOnlySpan<string>)["OOM", "READONLY", "MISCONF"])
        {
            var message = exception.Message;
            if ((message.StartsWith(code, StringComparison.Ordinal) && message.Length > code.Length && message[code.Length] == ' ')
                || message.Contains($"-{code} ", StringComparison.Ordinal))
            {
                return code;
            }
        }

        return null;
    }

    /// <summary>
    /// After a refused write, stops offering writes for a break (as the breaker would, but reads
    /// go on) and logs the first refusal of the episode. True for a refusal: its failure needs no
    /// log line of its own (a full Redis fails every queued fence).
    /// </summary>
    private bool NoteIfWritesRefused(Exception exception)
    {
        if (exception is not RedisServerException server || WriteRefusalCode(server) is not { } code)
        {
            return false;
        }

        Volatile.Write(ref _writesRefusedUntil, Environment.TickCount64 + (long)WriteRefusalPause.TotalMilliseconds);
        if (Interlocked.Exchange(ref _refusalEpisode, 1) == 0)
        {
            Log.WritesRefused(_logger, code, WriteRefusalPause);
        }

        return true;
    }

    /// <summary>Ends a write-refusal episode once Redis has taken a write.</summary>
    private void NoteWriteTaken()
    {
        if (Volatile.Read(ref _refusalEpisode) != 0 && Interlocked.Exchange(ref _refusalEpisode, 0) != 0)
        {
            Log.WritesAcceptedAgain(_logger);
        }
    }

    private static bool IsWrongType(RedisServerException exception) =>
        exception.Message.StartsWith("WRONGTYPE", StringComparison.Ordinal);

    // ---- write ----

    /// <inheritdoc />
    public async ValueTask WriteAsync(IReadOnlyList<ZsWritebackItem> items, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(items);
        if (items.Count == 0)
        {
            return;
        }

        // Encode first: an item no cache should produce throws here, before anything is sent.
        var batch = new WriteBatch(items);
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            ArgumentNullException.ThrowIfNull(item, nameof(items));
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(item.TimeToLive, TimeSpan.Zero, nameof(items));
            batch.Keys[i] = KeyOf(item.Key);
            batch.Payloads[i] = RedisPayload.Encode(item);
            batch.TimeToLiveMs[i] = TimeToLiveMs(item);
            batch.Stretchable[i] = item.SlidingExpiration is null ? "1" : "0";
            item.Outcome = ZsWritebackOutcome.Pending;
        }

        // The server refuses any of these writes it receives after this instant (server clock).
        batch.NotAfterUnixMs = TimeProvider.System.GetUtcNow().Add(_options.WriteDeadline).ToUnixTimeMilliseconds();

        try
        {
            await _pipeline.ExecuteAsync(
                static (state, token) => state.Tier.WriteAttemptAsync(state.Batch, token),
                (Tier: this, Batch: batch),
                cancellationToken).ConfigureAwait(false);
            NoteWriteTaken();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The caller cancelled the batch: what is not confirmed is Failed, below; not a tier fault.
        }
#pragma warning disable CA1031 // Never throw for tier faults: report them through the outcomes.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            var failed = 0;
            foreach (var item in items)
            {
                failed += item.Outcome == ZsWritebackOutcome.Pending ? 1 : 0;
            }

            if (!NoteIfWritesRefused(ex))
            {
                Log.WriteFailed(_logger, failed, ex);
            }
        }

        foreach (var item in items)
        {
            if (item.Outcome == ZsWritebackOutcome.Pending)
            {
                item.Outcome = ZsWritebackOutcome.Failed;
            }
        }
    }

    private async ValueTask WriteAttemptAsync(WriteBatch batch, CancellationToken cancellationToken)
    {
        var database = await DatabaseAsync(cancellationToken).ConfigureAwait(false);
        var items = batch.Items;
        var sent = new (int Index, Task<RedisResult> Task)[items.Count];
        var count = 0;
        RedisValue notAfter = batch.NotAfterUnixMs;

        // Fire every pending write before awaiting any: StackExchange.Redis pipelines them on the
        // connection, so the batch costs one round trip.
        for (var i = 0; i < items.Count; i++)
        {
            if (items[i].Outcome == ZsWritebackOutcome.Pending)
            {
                sent[count++] = (i, database.ScriptEvaluateAsync(
                    RedisScripts.Write,
                    [batch.Keys[i]],
                    [batch.Payloads[i], batch.TimeToLiveMs[i], batch.Stretchable[i], notAfter]));
            }
        }

        try
        {
            await Task.WhenAll(sent.Take(count).Select(s => s.Task)).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Each task is inspected below.
        catch (Exception)
#pragma warning restore CA1031
        {
        }

        Exception? fault = null;
        for (var s = 0; s < count; s++)
        {
            var (index, task) = sent[s];
            if (!task.IsCompleted)
            {
                ObserveLater(task);
                continue;
            }

            if (task.IsFaulted)
            {
                fault ??= task.Exception!.InnerException;
                continue;
            }

            items[index].Outcome = (int)task.Result switch
            {
                1 => ZsWritebackOutcome.Written,
                0 => ZsWritebackOutcome.Superseded,
                _ => TooLate(items[index]),
            };
        }

        // An unfinished attempt is the attempt timeout's (or the caller's) cancellation: let Polly
        // see it. Then a fault, for the retry and the breaker to judge; successes stay recorded and
        // a retry re-sends only what is still pending.
        cancellationToken.ThrowIfCancellationRequested();
        if (fault is not null)
        {
            ExceptionDispatchInfo.Throw(fault);
        }
    }

    /// <summary>
    /// The PX a write asks of Redis: 0 (no expiry: the key persists) for an entry that never
    /// expires, which the cache hands over with a time to live of <see cref="TimeSpan.MaxValue"/>;
    /// else its remaining life in whole milliseconds, at most <see cref="MaxTimeToLiveMs"/>.
    /// </summary>
    internal static long TimeToLiveMs(ZsWritebackItem item) =>
        item.TimeToLive == TimeSpan.MaxValue
            ? 0
            : ClampTimeToLive((long)Math.Ceiling(item.TimeToLive.TotalMilliseconds));

    private static long ClampTimeToLive(long ms) => Math.Clamp(ms, 1, MaxTimeToLiveMs);

    private ZsWritebackOutcome TooLate(ZsWritebackItem item)
    {
        Log.WriteTooLate(_logger, item.Key);
        return ZsWritebackOutcome.Failed;
    }

    /// <summary>Observes the fault of a command whose attempt was abandoned, so it is not reported as unobserved.</summary>
    private static void ObserveLater(Task task) =>
        task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    private sealed class WriteBatch(IReadOnlyList<ZsWritebackItem> items)
    {
        public IReadOnlyList<ZsWritebackItem> Items { get; } = items;

        public RedisKey[] Keys { get; } = new RedisKey[items.Count];

        public byte[][] Payloads { get; } = new byte[items.Count][];

        public long[] TimeToLiveMs { get; } = new long[items.Count];

        public string[] Stretchable { get; } = new string[items.Count];

        public long NotAfterUnixMs { get; set; }
    }

    // ---- fence ----

    /// <inheritdoc />
    public async ValueTask<bool> FenceAsync(string key, long version, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        var payload = RedisPayload.EncodeFence(version);
        var lifetimeMs = (long)FenceLifetime.TotalMilliseconds;
        try
        {
            await _pipeline.ExecuteAsync(
                static async (state, token) =>
                {
                    var database = await state.Tier.DatabaseAsync(token).ConfigureAwait(false);
                    await database.ScriptEvaluateAsync(RedisScripts.Fence, [state.Key], [state.Payload, state.LifetimeMs]).WaitAsync(token).ConfigureAwait(false);
                },
                (Tier: this, Key: KeyOf(key), Payload: payload, LifetimeMs: lifetimeMs),
                cancellationToken).ConfigureAwait(false);
            NoteWriteTaken();
            AnnounceFence(key, version);
            return true;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // Never throw for tier faults.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            if (!NoteIfWritesRefused(ex))
            {
                Log.FenceFailed(_logger, key, version, ex);
            }

            return false;
        }
    }

    // ---- read ----

    /// <summary>
    /// Bytes the first, plain read of a payload asks for. Larger than the compressed form of
    /// nearly every cached value, so a fault-in is usually one GETRANGE; small enough that a
    /// foreign value far larger than any payload costs at most this much before the script
    /// answers with its length.
    /// </summary>
    internal const int FirstReadBytes = 64 * 1024;

    /// <inheritdoc />
    public async ValueTask<ZsWritebackValue?> ReadAsync(string key, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        RedisResult result;
        try
        {
            result = await _pipeline.ExecuteAsync(
                static async (state, token) =>
                {
                    var database = await state.Tier.DatabaseAsync(token).ConfigureAwait(false);

                    // Most payloads fit in the first bytes: one plain GETRANGE, no script to run.
                    // A longer value (or a foreign one) costs one byte too many here and is read
                    // again by the script, which checks the length before it transfers anything.
                    RedisValue head;
                    try
                    {
                        head = await database.StringGetRangeAsync(state.Key, 0, state.Head).WaitAsync(token).ConfigureAwait(false);
                    }
                    catch (RedisServerException ex) when (IsWrongType(ex))
                    {
                        return RedisResult.Create((RedisValue)(-1), ResultType.Integer);
                    }

                    // A missing key and an empty string both read as "" (no payload is empty).
                    if (head.IsNullOrEmpty)
                    {
                        return RedisResult.Create(RedisValue.Null, ResultType.BulkString);
                    }

                    if (head.Length() <= state.Head)
                    {
                        return RedisResult.Create(head, ResultType.BulkString);
                    }

                    return await database.ScriptEvaluateAsync(RedisScripts.Read, [state.Key], [state.Cap]).WaitAsync(token).ConfigureAwait(false);
                },
                (Tier: this, Key: KeyOf(key), Cap: _readCap, Head: Math.Min(FirstReadBytes, _readCap)),
                cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // Never throw for tier faults.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.ReadFailed(_logger, key, ex);
            return null;
        }

        if (result.IsNull)
        {
            return null;
        }

        if (result.Resp2Type == ResultType.Integer)
        {
            var length = (long)result;
            Log.InvalidPayload(_logger, key, length < 0 ? "the key holds another Redis type" : $"{length} bytes, more than any payload");
            return null;
        }

        if (result.Resp2Type != ResultType.BulkString)
        {
            Log.InvalidPayload(_logger, key, $"an unexpected {result.Resp2Type} reply");
            return null;
        }

        var bytes = (byte[]?)result ?? [];
        var status = RedisPayload.Decode(bytes, _limits, out var header, out var data);
        if (status != RedisPayloadStatus.Valid)
        {
            Log.InvalidPayload(_logger, key, RedisPayload.Describe(status, bytes.Length, bytes));
            return null;
        }

        if (header.IsFence || !TryTimeToLive(header, now, out var renewMs))
        {
            return null;
        }

        if (renewMs is { } ms)
        {
            Renew(KeyOf(key), bytes.AsMemory(0, RedisPayload.OrderingPrefixLength), ms);
        }

        return RedisPayload.ToValue(header, data);
    }

    /// <summary>
    /// False when the value is past its absolute expiration at <paramref name="now"/>. Otherwise
    /// <paramref name="renewMs"/> is the sliding renewal, <c>min(sliding, absolute - now)</c>, or
    /// null when there is no sliding window.
    /// </summary>
    private static bool TryTimeToLive(in RedisPayloadHeader header, DateTimeOffset now, out long? renewMs)
    {
        renewMs = null;
        var nowMs = now.ToUnixTimeMilliseconds();
        var left = header.AbsoluteExpirationUnixMs == 0 ? long.MaxValue : header.AbsoluteExpirationUnixMs - nowMs;
        if (left <= 0)
        {
            return false;
        }

        if (header.SlidingMs != 0)
        {
            renewMs = ClampTimeToLive(Math.Min(header.SlidingMs, left));
        }

        return true;
    }

    private void Renew(RedisKey key, ReadOnlyMemory<byte> orderingPrefix, long ttlMs)
    {
        // Fire and forget: the read does not wait for it. On the same connection it still runs
        // before any later command of this process.
        try
        {
            if (ConnectedMultiplexer is { } connection)
            {
                connection.GetDatabase().ScriptEvaluate(RedisScripts.Renew, [key], [orderingPrefix, ttlMs], CommandFlags.FireAndForget);
            }
        }
#pragma warning disable CA1031 // A lost renewal costs an early expiry, never an error.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    // ---- refresh ----

    /// <inheritdoc />
    public async ValueTask<bool> RefreshAsync(string key, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        var redisKey = KeyOf(key);
        try
        {
            var head = await _pipeline.ExecuteAsync(
                static async (state, token) =>
                {
                    var database = await state.Tier.DatabaseAsync(token).ConfigureAwait(false);
                    return await database.ScriptEvaluateAsync(RedisScripts.ReadHeader, [state.Key]).WaitAsync(token).ConfigureAwait(false);
                },
                (Tier: this, Key: redisKey),
                cancellationToken).ConfigureAwait(false);

            if (head.IsNull)
            {
                return false;
            }

            if (head.Resp2Type != ResultType.Array)
            {
                Log.InvalidPayload(_logger, key, "the key holds another Redis type");
                return false;
            }

            var parts = (RedisResult[])head!;
            if (parts.Length != 2 || parts[0].Resp2Type != ResultType.BulkString || parts[1].Resp2Type != ResultType.Integer)
            {
                Log.InvalidPayload(_logger, key, "an unexpected reply");
                return false;
            }

            // The header and the length only: the checksum needs the data, which Refresh does not
            // fetch. Renewing a damaged value costs nothing, since reads refuse it.
            var bytes = (byte[]?)parts[0] ?? [];
            var length = (long)parts[1];
            var status = RedisPayload.ReadHeader(bytes, _limits, out var header);
            if (status == RedisPayloadStatus.Valid && RedisPayload.LengthOf(header) != length)
            {
                status = RedisPayloadStatus.LengthMismatch;
            }

            if (status != RedisPayloadStatus.Valid)
            {
                Log.InvalidPayload(_logger, key, RedisPayload.Describe(status, length, bytes));
                return false;
            }

            if (header.IsFence || !TryTimeToLive(header, now, out var renewMs))
            {
                return false;
            }

            if (renewMs is not { } ms)
            {
                return true;
            }

            var renewed = await _pipeline.ExecuteAsync(
                static async (state, token) =>
                {
                    var database = await state.Tier.DatabaseAsync(token).ConfigureAwait(false);
                    return await database.ScriptEvaluateAsync(RedisScripts.Renew, [state.Key], [state.Prefix, state.Ms]).WaitAsync(token).ConfigureAwait(false);
                },
                (Tier: this, Key: redisKey, Prefix: (RedisValue)bytes.AsMemory(0, RedisPayload.OrderingPrefixLength), Ms: ms),
                cancellationToken).ConfigureAwait(false);
            return (int)renewed == 1;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // Never throw for tier faults.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.RefreshFailed(_logger, key, ex);
            return false;
        }
    }

    // ---- health ----

    /// <summary>One PING through the pipeline; its round trip, or the fault.</summary>
    internal async ValueTask<TimeSpan> PingAsync(CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        await _pipeline.ExecuteAsync(
            static async (tier, token) =>
            {
                var database = await tier.DatabaseAsync(token).ConfigureAwait(false);
                await database.PingAsync().WaitAsync(token).ConfigureAwait(false);
            },
            this,
            cancellationToken).ConfigureAwait(false);
        return watch.Elapsed;
    }
}
