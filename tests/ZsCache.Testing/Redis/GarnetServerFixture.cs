using Xunit.Abstractions;

namespace ZsCache.Testing.Redis;

/// <summary>
/// A <see cref="RedisServerFixture"/> that always runs the embedded Garnet server, whether or
/// not <c>redis-server</c> is installed: for tests that hold the tier to what Garnet accepts
/// (the sample app and the fixtures fall back to it), not only to redis-server.
/// </summary>
public sealed class GarnetServerFixture : RedisServerFixture
{
    /// <summary>Creates the fixture; Garnet starts in <see cref="RedisServerFixture.InitializeAsync"/>.</summary>
    /// <param name="diagnostics">xunit's diagnostic sink (injected by xunit).</param>
    public GarnetServerFixture(IMessageSink diagnostics)
        : base(diagnostics, garnetOnly: true)
    {
    }
}
