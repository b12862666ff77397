using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using ZsCache.Redis.Internal;
using ZsCache.Testing.Redis;
using ZsCache.Writeback;

namespace ZsCache.Redis.Tests.Writeback;

public sealed class RegistrationTests(RedisServerFixture server) : IClassFixture<RedisServerFixture>
{
    private static ServiceProvider Build(Action<ZsRedisOptions> configure, Action<IServiceCollection>? more = null)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        new TestCacheBuilder(services).AddRedisWriteback(configure);
        more?.Invoke(services);
        return services.BuildServiceProvider();
    }

    [Fact]
    public void Missing_connection_settings_fail_at_start_naming_the_options()
    {
        using var provider = Build(_ => { });
        var validators = provider.GetServices<IStartupValidator>().ToArray();
        var ex = Assert.Throws<OptionsValidationException>(() => Assert.Single(validators).Validate());
        Assert.Contains("Configuration", ex.Message, StringComparison.Ordinal);
        Assert.Contains("ConfigurationOptions", ex.Message, StringComparison.Ordinal);
        Assert.Contains("ConnectionMultiplexerFactory", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_configuration_string_fails_without_repeating_it()
    {
        using var provider = Build(o => o.Configuration = "localhost:6379,password=hunter2,notAnOption=1");
        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<ZsRedisOptions>>().Value);
        Assert.Contains("ZsRedisOptions.Configuration", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_tier_is_one_singleton_and_a_multiplexer_it_created_is_disposed_with_it()
    {
        var provider = Build(o => o.Configuration = server.ConnectionString);
        var tier = provider.GetRequiredService<IZsWritebackTier>();
        Assert.Same(tier, provider.GetRequiredService<RedisWritebackTier>());
        Assert.Equal(TimeSpan.FromSeconds(60), tier.FenceLifetime);
        Assert.True(await tier.FenceAsync("x", 1, CancellationToken.None));
        var connection = ((RedisWritebackTier)tier).Multiplexer!;
        Assert.True(connection.IsConnected);

        await provider.DisposeAsync();
        Assert.False(connection.IsConnected);
    }

    [Fact]
    public async Task A_multiplexer_from_the_apps_factory_is_shared_and_not_disposed()
    {
        await using var shared = await ConnectionMultiplexer.ConnectAsync(server.ConnectionString);
        var calls = 0;
        var provider = Build(o => o.ConnectionMultiplexerFactory = () =>
        {
            Interlocked.Increment(ref calls);
            return Task.FromResult<IConnectionMultiplexer>(shared);
        });
        var tier = provider.GetRequiredService<IZsWritebackTier>();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(i => tier.FenceAsync($"f{i}", 1, CancellationToken.None).AsTask()));
        Assert.Equal(1, calls);

        await provider.DisposeAsync();
        Assert.True(shared.IsConnected);
        Assert.True(await shared.GetDatabase().PingAsync() >= TimeSpan.Zero);
    }

    [Fact]
    public async Task Health_check_registers_through_AddZsCacheRedis_and_reports_healthy()
    {
        await using var provider = Build(
            o => o.Configuration = server.ConnectionString,
            s => s.AddHealthChecks().AddZsCacheRedis(tags: ["ready"]));
        var report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        var entry = Assert.Single(report.Entries);
        Assert.Equal("zscache-redis", entry.Key);
        Assert.Equal(HealthStatus.Healthy, entry.Value.Status);
        Assert.Contains("ready", entry.Value.Tags);
    }
}
