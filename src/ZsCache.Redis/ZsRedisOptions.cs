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
}
