using Microsoft.Extensions.DependencyInjection;

namespace ZsCache;

/// <summary>
/// Returned by <c>AddZsCache</c> so that a writeback tier (for example
/// <c>AddRedisWriteback</c>) can be plugged into the same registration.
/// </summary>
public interface IZsCacheBuilder
{
    /// <summary>The service collection the cache was registered in.</summary>
    IServiceCollection Services { get; }
}
