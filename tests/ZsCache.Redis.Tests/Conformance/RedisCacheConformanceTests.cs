using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.Options;
using ZsCache.Testing.Conformance;
using ZsCache.Testing.Redis;

namespace ZsCache.Redis.Tests.Conformance;

/// <summary>
/// <c>RedisCache</c> against a real server: the peer ZsCache's writeback tier is compared with.
/// Its expiration is a server-side TTL, so it runs the semantic and buffer tests, not the fake-clock ones.
/// </summary>
public sealed class RedisCacheConformanceTests : DistributedCacheConformanceTests, IClassFixture<RedisServerFixture>
{
    public RedisCacheConformanceTests(RedisServerFixture server)
    {
        ArgumentNullException.ThrowIfNull(server);
        Cache = new RedisCache(Options.Create(new RedisCacheOptions
        {
            Configuration = server.ConnectionString,
            InstanceName = "conformance:",
        }));
    }

    protected override IDistributedCache Cache { get; }
}

/// <summary><c>RedisCache</c>'s <see cref="IBufferDistributedCache"/> against a real server.</summary>
public sealed class RedisCacheBufferConformanceTests : BufferDistributedCacheConformanceTests, IClassFixture<RedisServerFixture>
{
    public RedisCacheBufferConformanceTests(RedisServerFixture server)
    {
        ArgumentNullException.ThrowIfNull(server);
        Cache = new RedisCache(Options.Create(new RedisCacheOptions
        {
            Configuration = server.ConnectionString,
            InstanceName = "conformance-buffer:",
        }));
    }

    protected override IBufferDistributedCache Cache { get; }
}
