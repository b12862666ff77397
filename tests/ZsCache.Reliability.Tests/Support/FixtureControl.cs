using ZsCache.Soak;
using ZsCache.Testing.Redis;

namespace ZsCache.Reliability.Tests.Support;

/// <summary>The fault injector's handle on the shared test fixture.</summary>
internal sealed class FixtureControl(RedisServerFixture fixture) : IRedisControl
{
    public Task KillAsync() => fixture.KillAsync();

    public Task StartAsync() => fixture.StartAsync();

    public Task<string?> ExecuteAsync(params string[] args) => fixture.ExecuteAsync(args);
}
