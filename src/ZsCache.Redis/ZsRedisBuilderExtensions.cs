namespace ZsCache.Redis;

/// <summary>Plugs Redis into a ZsCache registration as its writeback tier.</summary>
public static class ZsRedisBuilderExtensions
{
    /// <summary>Uses Redis as the writeback tier: cold zspages are written there and faulted back in on read.</summary>
    /// <param name="builder">The builder <c>AddZsCache</c> returned.</param>
    /// <param name="configure">Sets the Redis options.</param>
    /// <returns>The same builder.</returns>
    public static IZsCacheBuilder AddRedisWriteback(this IZsCacheBuilder builder, Action<ZsRedisOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        throw new NotSupportedException("pending");
    }
}
