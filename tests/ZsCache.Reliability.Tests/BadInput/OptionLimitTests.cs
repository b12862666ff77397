using System.Text;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using ZsCache.Redis;
using ZsCache.Reliability.Tests.Support;
using ZsCache.Testing.Redis;

namespace ZsCache.Reliability.Tests.BadInput;

/// <summary>Every option at its limits: the last valid value works, the first invalid one fails at startup naming the option.</summary>
public sealed class OptionLimitTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    private static readonly DistributedCacheEntryOptions Forever = new();

    public static TheoryData<string, Action<ZsCacheOptions>> Invalid => new()
    {
        { nameof(ZsCacheOptions.MaxPoolBytes), o => o.MaxPoolBytes = ZsCacheOptions.MinPoolBytes - 1 },
        { nameof(ZsCacheOptions.MaxPoolBytes), o => o.MaxPoolBytes = 0 },
        { nameof(ZsCacheOptions.MaxPoolBytes), o => o.MaxPoolBytes = long.MinValue },
        { nameof(ZsCacheOptions.MaxValueBytes), o => o.MaxValueBytes = 0 },
        { nameof(ZsCacheOptions.MaxValueBytes), o => o.MaxValueBytes = -1 },
        { nameof(ZsCacheOptions.MaxValueBytes), o => o.MaxValueBytes = (1L << 30) + 1 },
        { nameof(ZsCacheOptions.MaxValueBytes), o => o.MaxValueBytes = long.MaxValue },
        { nameof(ZsCacheOptions.Compression), o => o.Compression = (ZsCompression)99 },
        { nameof(ZsCacheOptions.WritebackPolicy), o => o.WritebackPolicy = (ZsWritebackPolicy)(-1) },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Invalid_options_fail_at_startup_naming_the_option(string option, Action<ZsCacheOptions> configure)
    {
        var services = new ServiceCollection();
        services.AddZsCache(configure);
        using var provider = services.BuildServiceProvider();
        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IDistributedCache>());
        Assert.Contains(option, error.Message, StringComparison.Ordinal);

        var options = new ZsCacheOptions();
        configure(options);
        Assert.Contains(option, Assert.Throws<OptionsValidationException>(() => new ZsDistributedCache(Options.Create(options))).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ZsCacheOptions.MinPoolBytes)]
    [InlineData(ZsCacheOptions.MinPoolBytes + 1)]
    [InlineData((3 * ZsCacheOptions.MinPoolBytes) + 4095)]
    [InlineData(long.MaxValue)]
    public async Task Any_pool_limit_from_one_MiB_up_works_and_is_never_passed(long limit)
    {
        await using var sut = CacheUnderTest.Create(null, o => o.MaxPoolBytes = limit);
        var cache = sut.Cache;
        var random = new Random(1);
        var written = 0L;
        for (var i = 0; written < 3 * ZsCacheOptions.MinPoolBytes; i++)
        {
            var value = new byte[random.Next(1, 20_000)];
            random.NextBytes(value);
            await cache.SetAsync("k" + i, value, Forever);
            written += value.Length;
            Assert.True(cache.Pool.TotalBytes <= limit);
            Assert.Equal(value, await cache.GetAsync("k" + i));
        }

        Assert.Equal(limit, cache.GetStatistics().PoolLimit);
    }

    [Theory]
    [InlineData(1L)]
    [InlineData(1L << 30)]
    public async Task MaxValueBytes_at_its_limits_works(long max)
    {
        await using var sut = CacheUnderTest.Create(null, o => o.MaxValueBytes = max);
        await sut.Cache.SetAsync("one", [7], Forever);
        Assert.Equal([7], await sut.Cache.GetAsync("one"));
        if (max == 1)
        {
            await Assert.ThrowsAsync<ArgumentOutOfRangeException>("value", () => sut.Cache.SetAsync("two", [1, 2], Forever));
        }
    }

    public static TheoryData<string?> InstanceNames => new()
    {
        null,
        "",
        "app:",
        "{tag}:",
        "ünï-çødé:😀:",
        "with space and\ttab:",
        new string('p', 10_000),
    };

    [Theory]
    [MemberData(nameof(InstanceNames))]
    public async Task Any_instance_name_prefixes_exactly_the_redis_keys(string? instance)
    {
        // Unique per run even for the null and empty prefixes.
        var key = $"opt-{Guid.NewGuid():N}";
        await using var sut = CacheUnderTest.Create(redis.ConnectionString, o => o.InstanceName = instance);
        await using var direct = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        await sut.Cache.SetAsync(key, [1, 2, 3], Forever);
        await sut.Cache.ReclaimAsync(1000);
        Assert.True(await direct.GetDatabase().KeyExistsAsync(Encoding.UTF8.GetBytes((instance ?? "") + key)));
        Assert.Equal([1, 2, 3], await sut.Cache.GetAsync(key));
        await direct.GetDatabase().KeyDeleteAsync(Encoding.UTF8.GetBytes((instance ?? "") + key));
    }

    [Fact]
    public void Redis_options_without_a_connection_fail_at_startup_naming_it()
    {
        var services = new ServiceCollection();
        services.AddZsCache().AddRedisWriteback(_ => { });
        using var provider = services.BuildServiceProvider();
        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IDistributedCache>());
        Assert.Contains(nameof(ZsRedisOptions.Configuration), error.Message, StringComparison.Ordinal);
    }
}
