using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using ZsCache.Redis.Internal;
using Xunit.Abstractions;
using ZsCache.Reliability.Tests.Support;
using ZsCache.Soak;
using ZsCache.Testing.Redis;

namespace ZsCache.Reliability.Tests.Faults;

/// <summary>
/// Redis full (<c>maxmemory</c> with <c>noeviction</c>): it serves reads and refuses every write.
/// Nothing can leave the pool without being lost, so the pool keeps what it holds: a store that
/// needs room evicts at most one value (of its own size class), or is itself the one value lost,
/// and never costs a zspage of other values. Reads of what Redis holds go on.
/// </summary>
public sealed class WriteRefusingRedisTests(RedisServerFixture redis, ITestOutputHelper output) : IClassFixture<RedisServerFixture>
{
    private static readonly DistributedCacheEntryOptions Forever = new();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Each_Set_costs_at_most_one_value_while_Redis_refuses_writes_reads_go_on_and_writeback_resumes_after(bool sync)
    {
        redis.SkipUnlessProcess();
        await using var sut = CacheUnderTest.Create(redis.ConnectionString, o =>
        {
            o.MaxPoolBytes = ZsCacheOptions.MinPoolBytes;
            o.InstanceName = $"refusing-{Guid.NewGuid():N}:";
        });
        var cache = sut.Cache;

        // Some values written back while Redis still takes writes: they stay readable from it.
        var cold = Enumerable.Range(0, 40).Select(i => TestValue(i)).ToArray();
        for (var i = 0; i < cold.Length; i++)
        {
            await cache.SetAsync("cold" + i, cold[i], Forever);
        }

        await cache.ReclaimAsync(10_000);
        Assert.True(sut.Tier!.Written >= cold.Length, "the cold values reached Redis");

        long written = 0;
        int sets = 0, kept = 0;
        await redis.ExecuteAsync("CONFIG", "SET", "maxmemory-policy", "noeviction");
        await redis.ExecuteAsync("CONFIG", "SET", "maxmemory", "1");
        try
        {
            var failedBefore = sut.Tier.Failed + sut.Tier.FencesFailed;
            var droppedBefore = sut.Counters.Dropped;
            for (var i = 0; written < 3 * ZsCacheOptions.MinPoolBytes; i++)
            {
                var value = TestValue(1000 + i);
                written += value.Length;
                byte[]? back;
                if (sync)
                {
                    cache.Set("new" + i, value, Forever);
                    back = cache.Get("new" + i);
                }
                else
                {
                    await cache.SetAsync("new" + i, value, Forever);
                    back = await cache.GetAsync("new" + i);
                }

                // Kept (in the pool), or dropped and counted; never anything else.
                if (back is not null)
                {
                    Assert.Equal(value, back);
                    kept++;
                }

                sets++;
                Assert.True(cache.Pool.TotalBytes <= ZsCacheOptions.MinPoolBytes);
                Assert.True(sut.Counters.Dropped - droppedBefore <= sets, $"{sut.Counters.Dropped - droppedBefore} values dropped for {sets} stores");
            }

            Assert.True(kept > 0, "stores that fit a slot of their size class were kept");

            Assert.True(sut.Tier.Failed + sut.Tier.FencesFailed > failedBefore, "Redis refused writes (values or fences) during the fill");

            // A refusal of writes is not an outage: the breaker stays closed and reads go on, so
            // the values Redis already holds are still served.
            var tier = sut.Services.GetRequiredService<RedisWritebackTier>();
            Assert.True(tier.IsAvailable, $"reads stay available (circuit {tier.CircuitState})");
            Assert.False(tier.AcceptsWrites);
            Assert.Equal(1, sut.Logs.Count(13));
            var served = 0;
            for (var i = 0; i < cold.Length; i++)
            {
                var back = await cache.GetAsync("cold" + i);
                Assert.Equal(cold[i], back);
                served++;
            }

            output.WriteLine($"{written:N0} bytes in {sets} stores while full: {kept} kept; {sut.Tier.Failed + sut.Tier.FencesFailed - failedBefore} writes refused; {served}/{cold.Length} cold values served from Redis");
            output.WriteLine(sut.Figures());
        }
        finally
        {
            await redis.ExecuteAsync("CONFIG", "SET", "maxmemory", "0");
        }

        // Redis has room again: writeback resumes once the breaker lets calls through.
        var writtenBefore = sut.Tier.Written;
        var resumed = await Bounded.WaitAsync(
            async () =>
            {
                await cache.SetAsync("after" + Guid.NewGuid().ToString("N"), TestValue(7), Forever);
                await cache.ReclaimAsync(64);
                return sut.Tier.Written > writtenBefore;
            },
            TimeSpan.FromSeconds(45));
        Assert.True(resumed, "writeback resumed after Redis had room again");
    }

    private static byte[] TestValue(int seed)
    {
        var random = new Random(seed);
        var text = string.Concat(Enumerable.Range(0, 40 + random.Next(120)).Select(i => $"{{\"id\":{seed},\"n\":{i},\"v\":{random.Next(100000)}}},"));
        return System.Text.Encoding.UTF8.GetBytes(text);
    }
}
