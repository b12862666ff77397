using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Time.Testing;
using ZsCache.Testing.Conformance;

namespace ZsCache.Tests.Cache;

/// <summary>ZsCache without a writeback tier runs the same semantic tests as its peers.</summary>
public sealed class ZsCacheConformanceTests : DistributedCacheConformanceTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));

    public ZsCacheConformanceTests()
    {
        Cache = CacheFactory.Create(_time);
    }

    protected override IDistributedCache Cache { get; }

    protected override FakeTimeProvider FakeTime => _time;
}
