using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.Options;
using ZsCache.Testing.Conformance;
using ZsCache.Testing.Redis;

namespace ZsCache.Redis.Tests.Conformance;

/// <summary>
/// <c>RedisCache</c> against a real server: the peer ZsCache's writeback tier is compared with.
/// Its expiration is a server-side TTL, so the fake-clock tests do not apply.
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

    protected override string NoFakeTimeReason => "RedisCache keeps expiration as a server-side TTL; a fake clock cannot drive it.";
}
