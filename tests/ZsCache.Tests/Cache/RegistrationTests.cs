using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace ZsCache.Tests.Cache;

public class RegistrationTests
{
    [Fact]
    public void AddZsCache_resolves_one_instance_under_three_types()
    {
        var services = new ServiceCollection();
        services.AddDistributedMemoryCache(); // an earlier default must not win
        var builder = services.AddZsCache(o => o.MaxPoolBytes = 4L * 1024 * 1024);
        Assert.Same(services, builder.Services);
        using var provider = services.BuildServiceProvider();

        var concrete = provider.GetRequiredService<ZsDistributedCache>();
        Assert.Same(concrete, provider.GetRequiredService<IDistributedCache>());
        Assert.Same(concrete, provider.GetRequiredService<IBufferDistributedCache>());
        Assert.Equal(4L * 1024 * 1024, concrete.GetStatistics().PoolLimit);
    }

    [Fact]
    public void AddZsCache_binds_options_from_configuration()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ZsCache:MaxPoolBytes"] = "2097152",
            ["ZsCache:InstanceName"] = "shop:",
            ["ZsCache:Compression"] = "None",
            ["ZsCache:MaxValueBytes"] = "4096",
            ["ZsCache:WritebackPolicy"] = "ZspageLru",
        }).Build();
        var services = new ServiceCollection();
        services.AddZsCache(configuration.GetSection("ZsCache"));
        using var provider = services.BuildServiceProvider();
        var options = provider.GetRequiredService<IOptions<ZsCacheOptions>>().Value;

        Assert.Equal(2097152, options.MaxPoolBytes);
        Assert.Equal("shop:", options.InstanceName);
        Assert.Equal(ZsCompression.None, options.Compression);
        Assert.Equal(4096, options.MaxValueBytes);
        Assert.Equal(ZsWritebackPolicy.ZspageLru, options.WritebackPolicy);
        Assert.Equal(2097152, provider.GetRequiredService<ZsDistributedCache>().GetStatistics().PoolLimit);
    }

    [Fact]
    public void Time_comes_from_the_TimeProvider_in_DI()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(time);
        services.AddZsCache();
        using var provider = services.BuildServiceProvider();
        var cache = provider.GetRequiredService<IDistributedCache>();
        cache.Set("k", [1], new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromSeconds(10) });
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Null(cache.Get("k"));
    }

    [Theory]
    [InlineData(nameof(ZsCacheOptions.MaxPoolBytes), 1024L * 1024 - 1)]
    [InlineData(nameof(ZsCacheOptions.MaxPoolBytes), 0L)]
    [InlineData(nameof(ZsCacheOptions.MaxValueBytes), 0L)]
    [InlineData(nameof(ZsCacheOptions.MaxValueBytes), (1L << 30) + 1)]
    [InlineData(nameof(ZsCacheOptions.Compression), 42L)]
    [InlineData(nameof(ZsCacheOptions.WritebackPolicy), 42L)]
    public void Invalid_options_fail_validation_naming_the_option(string option, long value)
    {
        var services = new ServiceCollection();
        services.AddZsCache(o =>
        {
            switch (option)
            {
                case nameof(ZsCacheOptions.MaxPoolBytes): o.MaxPoolBytes = value; break;
                case nameof(ZsCacheOptions.MaxValueBytes): o.MaxValueBytes = value; break;
                case nameof(ZsCacheOptions.Compression): o.Compression = (ZsCompression)value; break;
                default: o.WritebackPolicy = (ZsWritebackPolicy)value; break;
            }
        });
        using var provider = services.BuildServiceProvider();
        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IDistributedCache>());
        Assert.Contains(option, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1024L * 1024, 1L)]
    [InlineData(1024L * 1024, 1L << 30)]
    [InlineData((1024L * 1024) + 4095, 5000L)]
    [InlineData(3_000_001L, 3_000_001L)]
    public void Options_at_their_limits_are_accepted(long maxPoolBytes, long maxValueBytes)
    {
        using var cache = CacheFactory.Create(configure: o =>
        {
            o.MaxPoolBytes = maxPoolBytes;
            o.MaxValueBytes = maxValueBytes;
        });
        cache.Set("k", [7], new DistributedCacheEntryOptions());
        Assert.Equal([7], cache.Get("k"));
    }
}
