using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ZsCache.Redis.Internal;
using ZsCache.Writeback;

namespace ZsCache.Redis;

/// <summary>Plugs Redis into a ZsCache registration as its writeback tier.</summary>
public static class ZsRedisBuilderExtensions
{
    /// <summary>Uses Redis as the writeback tier: cold zspages are written there and faulted back in on read.</summary>
    /// <remarks>
    /// Registers <see cref="ZsRedisOptions"/> (validated at start: one of
    /// <see cref="ZsRedisOptions.Configuration"/>, <see cref="ZsRedisOptions.ConfigurationOptions"/> or
    /// <see cref="ZsRedisOptions.ConnectionMultiplexerFactory"/> must be set) and the tier as the
    /// singleton <see cref="IZsWritebackTier"/>. Keys are <c>ZsCacheOptions.InstanceName + key</c>.
    /// The connection is made on first use; a multiplexer from
    /// <see cref="ZsRedisOptions.ConnectionMultiplexerFactory"/> is the app's and is not disposed.
    /// Add <c>AddZsCacheRedis()</c> to the health checks to watch the tier.
    /// </remarks>
    /// <param name="builder">The builder <c>AddZsCache</c> returned.</param>
    /// <param name="configure">Sets the Redis options.</param>
    /// <returns>The same builder.</returns>
    public static IZsCacheBuilder AddRedisWriteback(this IZsCacheBuilder builder, Action<ZsRedisOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);

        var services = builder.Services;
        services.AddOptions<ZsRedisOptions>().Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ZsRedisOptions>, ZsRedisOptionsValidator>());
        services.TryAddSingleton(static sp => new RedisWritebackTier(
            sp.GetRequiredService<IOptions<ZsRedisOptions>>(),
            sp.GetRequiredService<IOptions<ZsCacheOptions>>(),
            (sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance).CreateLogger<RedisWritebackTier>()));
        services.AddSingleton<IZsWritebackTier>(static sp => sp.GetRequiredService<RedisWritebackTier>());
        return builder;
    }
}
