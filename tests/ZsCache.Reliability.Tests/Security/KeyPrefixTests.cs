using Microsoft.Extensions.Caching.Distributed;
using StackExchange.Redis;
using ZsCache.Reliability.Tests.Support;
using ZsCache.Soak;
using ZsCache.Testing.Redis;

namespace ZsCache.Reliability.Tests.Security;

/// <summary>
/// <c>InstanceName</c> isolates: a full workload (writeback, fault-in, fences, renewals, removes)
/// leaves every key outside its prefix exactly as it was, whatever those keys look like.
/// (That ZsCache issues no command on any other key at all is proven under an ACL user limited
/// to the prefix, in <see cref="SecurityTests"/>.)
/// </summary>
public sealed class KeyPrefixTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    [Fact]
    public async Task A_workload_leaves_every_key_outside_its_prefix_untouched()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var instance = $"app-{run}:";
        await using var direct = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var db = direct.GetDatabase();

        // Neighbours: the prefix without its separator, other case, a longer instance name that
        // starts the same, the bare cache keys, and a key that looks like one of our payloads.
        RedisKey[] neighbours =
        [
            $"app-{run}", $"APP-{run}:k1", $"app-{run}", $"app-{run}x:k1", "k1", "k2", $"other-{run}:k1",
            $"app-{run};k1", $"app-{run}\u00A0:k1",
        ];
        var payload = PayloadLike();
        foreach (var key in neighbours)
        {
            await db.StringSetAsync(key, payload, TimeSpan.FromHours(1));
        }

        await using (var sut = CacheUnderTest.Create(redis.ConnectionString, o =>
        {
            o.MaxPoolBytes = 1024 * 1024;
            o.InstanceName = instance;
        }))
        {
            var driver = new LoadDriver(sut.Cache, TimeProvider.System, new LoadOptions { Clients = 16, Keys = 1500, Duration = TimeSpan.FromSeconds(3), Seed = 5, KeyPrefix = "k", SyncShare = 0 });
            await driver.PrefillAsync();
            var report = await driver.RunAsync(CancellationToken.None);
            Assert.True(sut.Tier!.Written > 0 && sut.Tier.Fences > 0, "the workload wrote back and fenced");
            Assert.True(report.Exceptions == 0, report.Describe());
        }

        foreach (var key in neighbours)
        {
            Assert.Equal(payload, (byte[]?)await db.StringGetAsync(key));
            var ttl = await db.KeyTimeToLiveAsync(key);
            Assert.True(ttl > TimeSpan.FromMinutes(59), $"{key}: its time to live was not touched");
        }
    }

    /// <summary>
    /// Documented limitation, as with <c>RedisCache</c>: keys are the plain concatenation
    /// <c>InstanceName + key</c>, so an instance name that is a prefix of another's shares keys
    /// with it ("app" + "2:x" is "app2" + ":x"). Instance names must not be prefixes of each
    /// other (end them with a separator no other instance name continues with).
    /// </summary>
    [Fact]
    public async Task Instance_names_that_are_prefixes_of_each_other_share_keys()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        await using var a = CacheUnderTest.Create(redis.ConnectionString, o => o.InstanceName = $"app{run}");
        await using var b = CacheUnderTest.Create(redis.ConnectionString, o => o.InstanceName = $"app{run}2");
        await a.Cache.SetAsync("2:x", [1, 2, 3], new DistributedCacheEntryOptions());
        await a.Cache.ReclaimAsync(100);
        Assert.Equal([1, 2, 3], await b.Cache.GetAsync(":x"));
    }

    private static byte[] PayloadLike()
    {
        var bytes = new byte[64];
        "ZS"u8.CopyTo(bytes);
        bytes[2] = 1;
        return bytes;
    }
}
