using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Internal;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using ZsCache.Testing.Conformance;

namespace ZsCache.Redis.Tests.Conformance;

/// <summary>
/// The reference implementation: the conformance base is written to its behaviour.
/// <c>MemoryDistributedCacheOptions</c> takes no <see cref="TimeProvider"/>, only the older
/// <see cref="ISystemClock"/>, so the fake clock is adapted to it.
/// </summary>
public sealed class MemoryDistributedCacheConformanceTests : ExpiringDistributedCacheConformanceTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));

    public MemoryDistributedCacheConformanceTests()
    {
        Cache = new MemoryDistributedCache(Options.Create(new MemoryDistributedCacheOptions { Clock = new FakeClock(_time) }));
    }

    protected override IDistributedCache Cache { get; }

    protected override FakeTimeProvider FakeTime => _time;

    // MemoryDistributedCache does not validate it: the entry is born expired and never readable.
    // ZsCache follows the contract (and RedisCache) and throws.
    protected override bool RejectsPastAbsoluteExpiration => false;

    private sealed class FakeClock(TimeProvider time) : ISystemClock
    {
        public DateTimeOffset UtcNow => time.GetUtcNow();
    }
}
