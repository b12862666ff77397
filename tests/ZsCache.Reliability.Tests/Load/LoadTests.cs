using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;
using ZsCache.Reliability.Tests.Support;
using ZsCache.Soak;
using ZsCache.Testing.Redis;

namespace ZsCache.Reliability.Tests.Load;

/// <summary>
/// 64 clients on a Zipf key space several times the pool, writeback and fault-in running
/// against a real Redis, every read checked against the history model.
/// </summary>
public sealed class LoadTests(RedisServerFixture redis, ITestOutputHelper output) : IClassFixture<RedisServerFixture>
{
    internal const long PoolBytes = 2L * 1024 * 1024;

    [Theory]
    [InlineData(ZsWritebackPolicy.ZspageLru)]
    [InlineData(ZsWritebackPolicy.EntryClock)]
    public async Task Sixty_four_clients_read_only_acceptable_values_while_the_pool_writes_back_and_faults_in(ZsWritebackPolicy policy)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var sut = CacheUnderTest.Create(redis.ConnectionString, o =>
        {
            o.MaxPoolBytes = PoolBytes;
            o.InstanceName = $"load-{Guid.NewGuid():N}:";
            o.WritebackPolicy = policy;
        }, time);
        var driver = new LoadDriver(sut.Cache, time, new LoadOptions
        {
            Clients = 64,
            Keys = 4500,
            Duration = Scale.Seconds(10),
            Seed = (int)policy + 1,
            AdvanceClock = time.Advance,
        });

        var keySpace = await driver.PrefillAsync();
        output.WriteLine($"key space: {driver.Keys.Count} keys, {keySpace.OriginalBytes:N0} bytes, about {keySpace.CompressedBytes:N0} compressed = {keySpace.CompressedBytes / (double)PoolBytes:0.0}x the pool");
        Assert.True(keySpace.CompressedBytes >= 3 * PoolBytes, "the key space is several times the pool, compressed");

        var report = await driver.RunAsync(CancellationToken.None);
        output.WriteLine(report.Describe());
        output.WriteLine(sut.Figures());

        Assert.True(report.Clean, report.Describe());
        Assert.True(report.Operations > 10_000, "the run did real work");
        Assert.True(sut.Tier!.Written > 0 && sut.Tier.ReadValues > 0, "writeback and fault-in were both active");
        Assert.True(report.MaxPoolBytes <= PoolBytes);

        // With Redis healthy, a value may only be missing because the cache dropped it (and said so).
        var explained = sut.Counters.Dropped + sut.Logs.Count(6) + sut.Logs.Count(104) + sut.Logs.Count(109);
        Assert.True(report.MissesLost == 0 || explained > 0, $"{report.MissesLost} reads missed a live value although nothing was dropped and no tier read failed");
    }
}
