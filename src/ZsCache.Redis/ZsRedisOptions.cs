using StackExchange.Redis;

namespace ZsCache.Redis;

/// <summary>Options of the Redis writeback tier.</summary>
public sealed class ZsRedisOptions
{
    /// <summary>A StackExchange.Redis configuration string, for example <c>localhost:6379</c>.</summary>
    public string? Configuration { get; set; }

    /// <summary>Used instead of <see cref="Configuration"/> when set.</summary>
    public ConfigurationOptions? ConfigurationOptions { get; set; }

    /// <summary>
    /// Used instead of both <see cref="Configuration"/> and <see cref="ConfigurationOptions"/>
    /// when set, so an app can share one multiplexer between ZsCache and its own Redis use.
    /// </summary>
    public Func<Task<IConnectionMultiplexer>>? ConnectionMultiplexerFactory { get; set; }

    // ---- Tuning: internal until measurements say which knobs deserve to be public. ----
    // Invariant (checked at start): TotalTimeout < FenceLifetime / 2 = the write deadline, so
    // the client gives up on a write long before the server would refuse it, and the server
    // refuses it long before any fence it could race with expires.

    /// <summary>
    /// How long a fence keeps older stores out. 60 s: far above the longest a write can be in
    /// flight (<see cref="TotalTimeout"/>, 5 s), with room for clock skew between the app and
    /// Redis (the write deadline is half of it), yet short enough that tombstones of removed
    /// keys do not pile up in Redis.
    /// </summary>
    internal TimeSpan FenceLifetime { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>One attempt of one operation (a whole pipelined batch counts as one). 1 s: a local round trip is sub-millisecond.</summary>
    internal TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>All attempts of one operation, retries and their delays included.</summary>
    internal TimeSpan TotalTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Retries after a transient failure (connection lost, timeout).</summary>
    internal int RetryCount { get; set; } = 2;

    /// <summary>First retry delay; doubles, with jitter.</summary>
    internal TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Share of failed attempts in <see cref="BreakerSamplingDuration"/> that opens the circuit.</summary>
    internal double BreakerFailureRatio { get; set; } = 0.5;

    /// <summary>Attempts needed in the sampling window before the breaker may open.</summary>
    internal int BreakerMinimumThroughput { get; set; } = 8;

    /// <summary>The breaker's sampling window.</summary>
    internal TimeSpan BreakerSamplingDuration { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long the circuit stays open before one probe is let through.</summary>
    internal TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The server-side deadline of a write, counted from when the batch began.</summary>
    internal TimeSpan WriteDeadline => FenceLifetime / 2;
}
