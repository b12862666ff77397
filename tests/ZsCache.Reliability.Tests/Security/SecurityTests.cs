using System.Globalization;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using Xunit.Abstractions;
using ZsCache.Redis;
using ZsCache.Soak;
using ZsCache.Testing.Redis;

namespace ZsCache.Reliability.Tests.Security;

/// <summary>
/// Credentials and TLS in the StackExchange.Redis configuration work unchanged (a server with
/// <c>--requirepass</c>, an ACL user limited to one prefix, a TLS port), and no secret ever
/// reaches a log line, a health report or a validation message, whatever fails.
/// </summary>
public sealed class SecurityTests(SecuredRedisFixture redis, ITestOutputHelper output) : IClassFixture<SecuredRedisFixture>
{
    private static readonly DistributedCacheEntryOptions Forever = new();

    [SkippableFact]
    public async Task A_password_in_the_configuration_string_works()
    {
        redis.SkipUnlessAvailable();
        await using var respWithoutAuth = await RespConnection.ConnectAsync(redis.Port, CancellationToken.None);
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => respWithoutAuth.ExecuteAsync(["GET", "x"], CancellationToken.None));
        Assert.StartsWith("NOAUTH", refused.Message, StringComparison.Ordinal);

        await using var sut = Build(r => r.Configuration = $"{redis.Host}:{redis.Port},password={SecuredRedisFixture.Password}", $"pw-{Guid.NewGuid():N}:");
        await RoundTripThroughRedisAsync(sut.Cache);
        Assert.Equal(0, sut.Logs.ForbiddenSeen);
    }

    [SkippableTheory]
    [InlineData(SecuredRedisFixture.AclUser)]
    [InlineData(SecuredRedisFixture.StrictAclUser)]
    public async Task An_acl_user_limited_to_the_instance_prefix_runs_every_operation_without_a_denial(string user)
    {
        redis.SkipUnlessAvailable();
        await redis.ExecuteAsync("ACL", "LOG", "RESET");
        var instance = $"{SecuredRedisFixture.AclPrefix}{Guid.NewGuid():N}:";

        // tiebreaker= : StackExchange.Redis otherwise reads its tie-breaker key (__Booksleeve_TieBreak)
        // on connect, outside the prefix; harmless, but it shows up as a denial (docs/security.md).
        await using var sut = Build(r => r.Configuration = $"{redis.Host}:{redis.Port},user={user},password={SecuredRedisFixture.AclPassword},tiebreaker=", instance);
        await RoundTripThroughRedisAsync(sut.Cache);

        // A short load: writeback, fault-in, fences, refresh, sliding renewals, all under the ACL.
        var driver = new LoadDriver(sut.Cache, TimeProvider.System, new LoadOptions { Clients = 16, Keys = 2000, Duration = TimeSpan.FromSeconds(3), SyncShare = 0, Seed = 3 });
        await driver.PrefillAsync();
        var report = await driver.RunAsync(CancellationToken.None);
        output.WriteLine(report.Describe());
        Assert.True(report.Exceptions == 0 && report.Corrupt == 0, report.Describe());

        // Redis refused no key: ZsCache touched nothing outside InstanceName. The only commands a
        // user without @dangerous is refused are StackExchange.Redis's own diagnostics at connect
        // (INFO, CONFIG GET), which it does without; ZsCache itself needs none of them.
        var denials = (await redis.ExecuteAsync("ACL", "LOG")) ?? "";
        output.WriteLine($"ACL LOG: {denials.ReplaceLineEndings(" ")}");
        var lines = denials.Split('\n');
        var reasons = lines.Select((l, i) => (l, i)).Where(p => p.l == "reason").Select(p => lines[p.i + 1]).ToArray();
        var objects = lines.Select((l, i) => (l, i)).Where(p => p.l == "object").Select(p => lines[p.i + 1]).ToArray();
        Assert.DoesNotContain("key", reasons);
        Assert.DoesNotContain("channel", reasons);
        Assert.All(objects, o => Assert.Contains(o, new[] { "info", "config|get", "cluster|nodes" }));
        Assert.True(user == SecuredRedisFixture.StrictAclUser || objects.Length == 0, "with +@all nothing is refused");
        Assert.Equal(0, sut.Logs.Count(4) + sut.Logs.Count(6) + sut.Logs.Count(8) + sut.Logs.Count(9));
    }

    [SkippableFact]
    public async Task An_acl_user_outside_its_prefix_is_refused_by_redis_and_the_cache_degrades_without_throwing()
    {
        redis.SkipUnlessAvailable();
        await redis.ExecuteAsync("ACL", "LOG", "RESET");
        await using var sut = Build(r => r.Configuration = $"{redis.Host}:{redis.Port},user={SecuredRedisFixture.AclUser},password={SecuredRedisFixture.AclPassword}", $"elsewhere-{Guid.NewGuid():N}:");
        var cache = sut.Cache;
        for (var i = 0; i < 20; i++)
        {
            await cache.SetAsync("k" + i, Value(i), Forever);
        }

        await cache.ReclaimAsync(1000);
        await cache.RemoveAsync("k0");
        cache.Refresh("k1");
        for (var i = 1; i < 20; i++)
        {
            var back = await cache.GetAsync("k" + i);
            Assert.True(back is null || back.AsSpan().SequenceEqual(Value(i)));
        }

        var denials = await redis.ExecuteAsync("ACL", "LOG");
        Assert.Contains("elsewhere-", denials, StringComparison.Ordinal);
        Assert.Equal(0, sut.Logs.ForbiddenSeen);
    }

    [SkippableFact]
    public async Task Tls_configuration_options_with_a_trusted_ca_work_unchanged()
    {
        redis.SkipUnlessAvailable();
        var options = ConfigurationOptions.Parse($"{redis.Host}:{redis.TlsPort},ssl=true,sslHost=localhost,password={SecuredRedisFixture.Password}");
        options.TrustIssuer(redis.CaPath);

        // As ConfigurationOptions (the tier clones them: the trust callback must survive the clone) ...
        await using (var sut = Build(r => r.ConfigurationOptions = options, $"tls-{Guid.NewGuid():N}:"))
        {
            await RoundTripThroughRedisAsync(sut.Cache);
        }

        // ... and as the app's own multiplexer.
        await using var shared = await ConnectionMultiplexer.ConnectAsync(options);
        await using (var sut = Build(r => r.ConnectionMultiplexerFactory = () => Task.FromResult<IConnectionMultiplexer>(shared), $"tls-{Guid.NewGuid():N}:"))
        {
            await RoundTripThroughRedisAsync(sut.Cache);
        }

        Assert.True(shared.IsConnected, "the app's multiplexer is the app's: the cache does not dispose it");
    }

    [SkippableFact]
    public async Task Tls_with_a_certificate_nobody_trusts_never_connects_and_the_cache_keeps_serving()
    {
        redis.SkipUnlessAvailable();
        await using var sut = Build(r => r.Configuration = $"{redis.Host}:{redis.TlsPort},ssl=true,sslHost=localhost,connectTimeout=1500,password={SecuredRedisFixture.Password}", $"tls-untrusted-{Guid.NewGuid():N}:");
        var cache = sut.Cache;
        await cache.SetAsync("k", Value(1), Forever);
        await cache.ReclaimAsync(1000);
        Assert.True(await Bounded.WaitAsync(() => sut.Logs.Count(1) + sut.Logs.Count(2) + sut.Logs.Count(4) > 0, TimeSpan.FromSeconds(20)), "the failed connection was logged");
        Assert.Equal(0, sut.Logs.ForbiddenSeen);
        var back = await cache.GetAsync("k");
        Assert.True(back is null || back.AsSpan().SequenceEqual(Value(1)));
    }

    public static TheoryData<string> FailingConfigurations => new()
    {
        "wrong password",
        "nothing listening",
        "acl user, wrong password",
        "tls, untrusted certificate",
        "options object, nothing listening",
    };

    [SkippableTheory]
    [MemberData(nameof(FailingConfigurations))]
    public async Task No_secret_reaches_a_log_line_a_health_report_or_an_exception_while_the_tier_fails(string scenario)
    {
        redis.SkipUnlessAvailable();
        var secret = "Secret-" + Guid.NewGuid().ToString("N");
        var closed = FreePorts.Next();
        Action<ZsRedisOptions> configure = scenario switch
        {
            "wrong password" => r => r.Configuration = $"{redis.Host}:{redis.Port},connectTimeout=1500,password={secret}",
            "nothing listening" => r => r.Configuration = $"{redis.Host}:{closed},connectTimeout=1500,password={secret}",
            "acl user, wrong password" => r => r.Configuration = $"{redis.Host}:{redis.Port},connectTimeout=1500,user={SecuredRedisFixture.AclUser},password={secret}",
            "tls, untrusted certificate" => r => r.Configuration = $"{redis.Host}:{redis.TlsPort},ssl=true,sslHost=localhost,connectTimeout=1500,password={secret}",
            _ => r => r.ConfigurationOptions = new ConfigurationOptions { EndPoints = { { redis.Host, closed } }, Password = secret, ConnectTimeout = 1500 },
        };

        await using var sut = Build(configure, $"secret-{Guid.NewGuid():N}:", secret);
        var cache = sut.Cache;
        var thrown = new List<Exception>();
        for (var i = 0; i < 30; i++)
        {
            try
            {
                await cache.SetAsync("k" + i, Value(i), Forever);
                await cache.ReclaimAsync(10);
                _ = await cache.GetAsync("k" + i);
                _ = cache.Get("missing" + i);
                await cache.RefreshAsync("k" + i);
                cache.Remove("k" + i);
                await cache.RemoveAsync("k" + i);
            }
#pragma warning disable CA1031 // Collected and asserted on below.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                thrown.Add(ex);
            }
        }

        // The failure path was really taken and logged.
        Assert.True(await Bounded.WaitAsync(() => sut.Logs.Count(1) + sut.Logs.Count(2) + sut.Logs.Count(4) + sut.Logs.Count(6) + sut.Logs.Count(8) > 0, TimeSpan.FromSeconds(20)), "the tier's failures were logged");
        var health = await sut.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        var entry = health.Entries["zscache-redis"];
        output.WriteLine($"{scenario}: {sut.Logs.Total} log lines ({string.Join(", ", sut.Logs.ByEvent.OrderBy(p => p.Key).Select(p => $"#{p.Key}: {p.Value}"))}); health {entry.Status}: {entry.Description}");
        foreach (var line in sut.Logs.Recent.Where(l => !l.Contains("[4]", StringComparison.Ordinal) && !l.Contains("[6]", StringComparison.Ordinal) && !l.Contains("[8]", StringComparison.Ordinal)))
        {
            output.WriteLine("  " + line);
        }

        Assert.Empty(thrown);
        Assert.True(sut.Logs.ForbiddenSeen == 0, string.Join(Environment.NewLine, sut.Logs.ForbiddenLines));
        Assert.NotEqual(HealthStatus.Healthy, entry.Status);
        var reported = $"{entry.Description} {entry.Exception} {string.Join(",", entry.Data.Select(p => $"{p.Key}={p.Value}"))}";
        Assert.DoesNotContain(secret, reported, StringComparison.Ordinal);
    }

    [Fact]
    public void An_invalid_configuration_string_is_refused_without_repeating_it()
    {
        var secret = "Secret-" + Guid.NewGuid().ToString("N");
        var services = new ServiceCollection();
        services.AddZsCache().AddRedisWriteback(r => r.Configuration = $"localhost:6379,password={secret},notAnOption=1");
        using var provider = services.BuildServiceProvider();
        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IDistributedCache>());
        Assert.Contains(nameof(ZsRedisOptions.Configuration), error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, error.ToString(), StringComparison.Ordinal);
    }

    private static async Task RoundTripThroughRedisAsync(ZsDistributedCache cache)
    {
        for (var i = 0; i < 20; i++)
        {
            await cache.SetAsync("k" + i, Value(i), new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(5) });
        }

        await cache.RemoveAsync("k0");
        await cache.ReclaimAsync(1000);
        Assert.Equal(0, cache.GetStatistics().EntriesInPool);
        Assert.Null(await cache.GetAsync("k0"));
        for (var i = 1; i < 20; i++)
        {
            await cache.RefreshAsync("k" + i);
            Assert.Equal(Value(i), await cache.GetAsync("k" + i));
        }

        var stats = cache.GetStatistics();
        Assert.Equal(19, stats.WritebackHits);
        Assert.Equal(0, stats.PendingFences);
    }

    private static byte[] Value(int i) => System.Text.Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat($"value {i.ToString(CultureInfo.InvariantCulture)} ", 200)));

    private static Harness Build(Action<ZsRedisOptions> configure, string instance, params string[] forbidden)
    {
        var logs = new CountingLoggerProvider(LogLevel.Trace, forbidden);
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
        services.AddZsCache(o =>
        {
            o.MaxPoolBytes = 1024 * 1024;
            o.InstanceName = instance;
        }).AddRedisWriteback(configure);
        services.AddHealthChecks().AddZsCacheRedis();
        var provider = services.BuildServiceProvider();
        return new Harness(provider, provider.GetRequiredService<ZsDistributedCache>(), logs);
    }

    private sealed record Harness(ServiceProvider Services, ZsDistributedCache Cache, CountingLoggerProvider Logs) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Services.DisposeAsync();
    }
}
