using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using ZsCache.Redis.Internal;

namespace ZsCache.Redis;

/// <summary>Adds the ZsCache Redis writeback tier to the app's health checks.</summary>
public static class ZsRedisHealthChecksBuilderExtensions
{
    /// <summary>Adds a <see cref="ZsRedisHealthCheck"/>. Needs <c>AddRedisWriteback</c> in the same container.</summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The check's name.</param>
    /// <param name="failureStatus">Reported when Redis does not answer; null for <see cref="HealthStatus.Unhealthy"/>.</param>
    /// <param name="tags">Tags to filter checks by.</param>
    /// <param name="timeout">The check's timeout; null for the default.</param>
    /// <returns>The same builder.</returns>
    public static IHealthChecksBuilder AddZsCacheRedis(
        this IHealthChecksBuilder builder,
        string name = "zscache-redis",
        HealthStatus? failureStatus = null,
        IEnumerable<string>? tags = null,
        TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(name);
        return builder.Add(new HealthCheckRegistration(
            name,
            static sp => new ZsRedisHealthCheck(
                sp.GetService<RedisWritebackTier>()
                ?? throw new InvalidOperationException("AddZsCacheRedis() needs the Redis writeback tier: call AddZsCache().AddRedisWriteback(...) first.")),
            failureStatus,
            tags,
            timeout));
    }
}
