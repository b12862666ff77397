using System.Diagnostics.Metrics;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ZsCache.Internal;
using ZsCache.Writeback;

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
        var options = services.AddOptions<ZsCacheOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        return AddCore(services, options);
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
        return AddCore(services, services.AddOptions<ZsCacheOptions>().Bind(configuration));
    }

    private static ZsCacheBuilder AddCore(IServiceCollection services, OptionsBuilder<ZsCacheOptions> options)
    {
        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ZsCacheOptions>, ZsCacheOptionsValidator>());
        services.TryAddSingleton(sp => new ZsDistributedCache(
            sp.GetRequiredService<IOptions<ZsCacheOptions>>(),
            sp.GetService<IZsWritebackTier>(),
            sp.GetService<TimeProvider>(),
            sp.GetService<ILoggerFactory>(),
            sp.GetService<IMeterFactory>()));

        // Added, not tried: the last registration of IDistributedCache is the one resolved, as
        // AddStackExchangeRedisCache does, so ZsCache wins over an earlier default.
        services.AddSingleton<IDistributedCache>(sp => sp.GetRequiredService<ZsDistributedCache>());
        services.AddSingleton<IBufferDistributedCache>(sp => sp.GetRequiredService<ZsDistributedCache>());
        return new ZsCacheBuilder(services);
    }

    private sealed class ZsCacheBuilder(IServiceCollection services) : IZsCacheBuilder
    {
        public IServiceCollection Services { get; } = services;
    }
}
