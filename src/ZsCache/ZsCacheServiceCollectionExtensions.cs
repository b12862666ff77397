using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace ZsCache;

/// <summary>Registers ZsCache in an <see cref="IServiceCollection"/>.</summary>
public static class ZsCacheServiceCollectionExtensions
{
    /// <summary>
    /// Registers one <see cref="ZsDistributedCache"/> singleton, resolvable as
    /// <see cref="IDistributedCache"/>, <see cref="IBufferDistributedCache"/> and its own type.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options; may be null to keep the defaults.</param>
    /// <returns>A builder to plug a writeback tier into.</returns>
    public static IZsCacheBuilder AddZsCache(this IServiceCollection services, Action<ZsCacheOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        throw new NotSupportedException("pending");
    }

    /// <summary>
    /// Registers ZsCache with options bound from a configuration section (keys named as the
    /// properties of <see cref="ZsCacheOptions"/>).
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The section to bind, for example <c>Configuration.GetSection("ZsCache")</c>.</param>
    /// <returns>A builder to plug a writeback tier into.</returns>
    public static IZsCacheBuilder AddZsCache(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        throw new NotSupportedException("pending");
    }
}
