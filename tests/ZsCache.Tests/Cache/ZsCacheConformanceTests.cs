using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Time.Testing;
using ZsCache.Testing.Conformance;

namespace ZsCache.Tests.Cache;

/// <summary>ZsCache without a writeback tier runs the same semantic tests as its peers.</summary>
public sealed class ZsCacheConformanceTests : ExpiringDistributedCacheConformanceTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));

    public ZsCacheConformanceTests()
    {
        Cache = CacheFactory.Create(_time);
    }

    protected override IDistributedCache Cache { get; }

    protected override FakeTimeProvider FakeTime => _time;
}

/// <summary>ZsCache's <see cref="IBufferDistributedCache"/> runs the same buffer tests as RedisCache.</summary>
public sealed class ZsCacheBufferConformanceTests : BufferDistributedCacheConformanceTests
{
    // The buffer base reads the real clock, so this cache does too.
    protected override IBufferDistributedCache Cache { get; } =
        new ZsDistributedCache(Microsoft.Extensions.Options.Options.Create(new ZsCacheOptions { MaxPoolBytes = 8L * 1024 * 1024 }));
}
