using System.Diagnostics;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Polly.CircuitBreaker;
using StackExchange.Redis;
using ZsCache.Redis.Internal;
using ZsCache.Testing.Redis;
using ZsCache.Writeback;

namespace ZsCache.Redis.Tests.Writeback;

/// <summary>A real redis-server killed, restarted and paused under the tier. Own server per class.</summary>
public sealed class RedisWritebackTierFaultTests(RedisServerFixture server) : IClassFixture<RedisServerFixture>
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    private static void Quick(ZsRedisOptions o)
    {
        o.AttemptTimeout = TimeSpan.FromMilliseconds(300);
        o.TotalTimeout = TimeSpan.FromSeconds(1);
        o.RetryDelay = TimeSpan.FromMilliseconds(10);
        o.BreakerMinimumThroughput = 4;
        o.BreakerSamplingDuration = TimeSpan.FromSeconds(5);
        o.BreakDuration = TimeSpan.FromSeconds(1);
    }

    [SkippableFact]
    public async Task A_full_redis_refuses_writes_without_opening_the_breaker_reads_go_on_and_writes_resume_after_the_break()
    {
        server.SkipUnlessProcess();
        await using var h = await TierHarness.CreateAsync(server.ConnectionString, Quick);
        Assert.Equal(ZsWritebackOutcome.Written, await h.WriteOneAsync(TierHarness.Item("held", 1)));
        var check = new ZsRedisHealthCheck(h.Tier);
        var context = new HealthCheckContext { Registration = new HealthCheckRegistration("redis", check, HealthStatus.Unhealthy, null) };

        await server.ExecuteAsync("CONFIG", "SET", "maxmemory-policy", "noeviction");
        await server.ExecuteAsync("CONFIG", "SET", "maxmemory", "1");
        try
        {
            for (var call = 0; call < 10; call++)
            {
                Assert.Equal(ZsWritebackOutcome.Failed, await h.WriteOneAsync(TierHarness.Item("k" + call, 10 + call)));
                Assert.False(await h.Tier.FenceAsync("f" + call, 10 + call, CancellationToken.None));
            }

            // Refusals are not outages: the circuit stays closed, reads are served, only writes pause.
            Assert.Equal(CircuitState.Closed, h.Tier.CircuitState);
            Assert.True(h.Tier.IsAvailable);
            Assert.False(h.Tier.AcceptsWrites);
            Assert.NotNull(await h.Tier.ReadAsync("held", Now, CancellationToken.None));
            var health = await check.CheckHealthAsync(context);
            Assert.Equal(HealthStatus.Degraded, health.Status);
            Assert.Equal("refused", health.Data["writes"]);
            Assert.Single(h.Warnings(13));
        }
        finally
        {
            await server.ExecuteAsync("CONFIG", "SET", "maxmemory", "0");
        }

        await TierHarness.EventuallyAsync(() => Task.FromResult(h.Tier.AcceptsWrites), TimeSpan.FromSeconds(10), "writes are offered again after the break");
        // Between probes the episode goes on: health does not flap back to Healthy each second.
        Assert.Equal(HealthStatus.Degraded, (await check.CheckHealthAsync(context)).Status);
        Assert.Equal(ZsWritebackOutcome.Written, await h.WriteOneAsync(TierHarness.Item("after", 100)));
        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(context)).Status);
        Assert.Single(h.Warnings(13));
        Assert.Single(h.Logs.Records, r => r.EventId.Id == 14);
    }

    [Theory]
    [InlineData("OOM command not allowed when used memory > 'maxmemory'.", "OOM")]
    [InlineData("OOM command not allowed when used memory > 'maxmemory'. script: 1f2e, on @user_script:1.", "OOM")]
    [InlineData("ERR Error running script (call to f_1f2e): @user_script:1: @user_script: 1: -OOM command not allowed when used memory > 'maxmemory'.", "OOM")]
    [InlineData("READONLY You can't write against a read only replica.", "READONLY")]
    [InlineData("ERR Error running script (call to f_1f2e): @user_script:1: @user_script: 1: -READONLY You can't write against a read only replica.", "READONLY")]
    [InlineData("MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk.", "MISCONF")]
    [InlineData("ERR unknown command 'OOMKILL'", null)]
    [InlineData("OOMISH is not a refusal", null)]
    [InlineData("WRONGTYPE Operation against a key holding the wrong kind of value", null)]
    public void Write_refusals_are_recognised_bare_and_wrapped_in_a_script_error(string message, string? code) =>
        Assert.Equal(code, RedisWritebackTier.WriteRefusalCode(new RedisServerException(message)));

    [SkippableFact]
    public async Task Killed_redis_fails_fast_without_throwing_opens_the_breaker_and_recovers_after_restart()
    {
        server.SkipUnlessProcess();
        await using var h = await TierHarness.CreateAsync(server.ConnectionString, Quick);

        // A cold process may not connect, load the script and JIT within the short timeouts at the first try.
        await TierHarness.EventuallyAsync(
            async () => await h.WriteOneAsync(TierHarness.Item("before", 1)) == ZsWritebackOutcome.Written,
            TimeSpan.FromSeconds(10),
            "the tier connects");
        var check = new ZsRedisHealthCheck(h.Tier);
        var context = new HealthCheckContext { Registration = new HealthCheckRegistration("redis", check, HealthStatus.Unhealthy, null) };
        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(context)).Status);

        await server.KillAsync();
        try
        {
            // Every call fails, quickly, without an exception, until the breaker opens.
            for (var call = 0; call < 20 && h.Tier.CircuitState != CircuitState.Open; call++)
            {
                var watch = Stopwatch.StartNew();
                var items = new[] { TierHarness.Item("k", 10 + call) };
                await h.Tier.WriteAsync(items, CancellationToken.None);
                Assert.Equal(ZsWritebackOutcome.Failed, items[0].Outcome);
                Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"a write took {watch.Elapsed}");
            }

            Assert.False(h.Tier.IsAvailable);
            Assert.Equal(CircuitState.Open, h.Tier.CircuitState);
            Assert.Equal(HealthStatus.Degraded, (await check.CheckHealthAsync(context)).Status);
            Assert.NotEmpty(h.Warnings(10));

            // With the circuit open, nothing waits on the network.
            var open = Stopwatch.StartNew();
            Assert.Null(await h.Tier.ReadAsync("before", Now, CancellationToken.None));
            Assert.False(await h.Tier.FenceAsync("before", 2, CancellationToken.None));
            Assert.False(await h.Tier.RefreshAsync("before", Now, CancellationToken.None));
            Assert.True(open.Elapsed < TimeSpan.FromMilliseconds(500), $"open-circuit calls took {open.Elapsed}");

            // The break runs out while Redis is still down: the tier stays unavailable (no
            // connection) and the health check stays Degraded, not Unhealthy: the pool serves.
            await TierHarness.EventuallyAsync(() => Task.FromResult(!h.Tier.InCircuitBreak), TimeSpan.FromSeconds(10), "the break runs out");
            Assert.False(h.Tier.IsAvailable);
            Assert.Equal(HealthStatus.Degraded, (await check.CheckHealthAsync(context)).Status);
        }
        finally
        {
            await server.StartAsync();
        }

        // Once the break is over and the connection is back, the tier says it is available before
        // any call has gone through the breaker: a cache asks before it writes back, so an open
        // circuit that waited for a call to probe it would stay open for good.
        await TierHarness.EventuallyAsync(
            () => Task.FromResult(h.Tier.IsAvailable),
            TimeSpan.FromSeconds(20),
            "the tier is available again with no call made");
        Assert.Equal(CircuitState.Open, h.Tier.CircuitState);

        // The health check's ping is such a probe: it closes the circuit.
        await TierHarness.EventuallyAsync(
            async () => (await check.CheckHealthAsync(context)).Status == HealthStatus.Healthy,
            TimeSpan.FromSeconds(20),
            "the health check probes and reports healthy");
        Assert.Equal(CircuitState.Closed, h.Tier.CircuitState);

        // Writeback resumes.
        await TierHarness.EventuallyAsync(
            async () => await h.WriteOneAsync(TierHarness.Item("after", 1)) == ZsWritebackOutcome.Written,
            TimeSpan.FromSeconds(20),
            "a write succeeds after the restart");
        Assert.NotNull(await h.Tier.ReadAsync("after", Now, CancellationToken.None));
        Assert.True(h.Tier.IsAvailable);
        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(context)).Status);
    }

    [SkippableFact]
    public async Task Client_pause_trips_the_timeout_and_the_abandoned_write_never_lands()
    {
        server.SkipUnlessProcess();
        await using var h = await TierHarness.CreateAsync(server.ConnectionString, o =>
        {
            o.AttemptTimeout = TimeSpan.FromMilliseconds(200);
            o.TotalTimeout = TimeSpan.FromMilliseconds(600);
            o.RetryCount = 1;
            // Write deadline = 1 s after the batch starts, shorter than the pause below.
            o.FenceLifetime = TimeSpan.FromSeconds(2);
        });
        // The first call connects (and JIT-compiles) within the short timeouts of this tier only once warm.
        await TierHarness.EventuallyAsync(
            async () => await h.WriteOneAsync(TierHarness.Item("warm", 1)) == ZsWritebackOutcome.Written,
            TimeSpan.FromSeconds(10),
            "the tier connects");

        await server.PauseAsync(TimeSpan.FromSeconds(3));
        var watch = Stopwatch.StartNew();
        var stalled = TierHarness.Item("paused", 1);
        await h.Tier.WriteAsync([stalled], CancellationToken.None);
        var writeTook = watch.Elapsed;
        Assert.Equal(ZsWritebackOutcome.Failed, stalled.Outcome);
        Assert.True(writeTook < TimeSpan.FromSeconds(2), $"the write stalled for {writeTook}");
        Assert.Null(await h.Tier.ReadAsync("warm", Now, CancellationToken.None));
        Assert.True(watch.Elapsed < TimeSpan.FromMilliseconds(2500), $"write and read took {watch.Elapsed} of a 3 s pause");

        // The server held the abandoned scripts and runs them when the pause ends; a command on the
        // tier's own connection is answered after them (one connection is FIFO). They found their
        // deadline past and stored nothing.
        await TierHarness.EventuallyAsync(
            async () => await h.Tier.ReadAsync("warm", Now, CancellationToken.None) is not null,
            TimeSpan.FromSeconds(10),
            "reads work again after the pause");
        Assert.Null(await h.Tier.ReadAsync("paused", Now, CancellationToken.None));
        Assert.False(await h.Db.KeyExistsAsync(h.Key("paused")));
        Assert.Equal(ZsWritebackOutcome.Written, await h.WriteOneAsync(TierHarness.Item("paused", 2)));
    }

    [Fact]
    public async Task Unreachable_redis_at_start_is_a_failure_not_an_exception_and_the_check_says_unhealthy()
    {
        var nobody = $"127.0.0.1:{FreePorts.Next()},connectTimeout=200";
        await using var h = await TierHarness.CreateAsync(server.ConnectionString, o =>
        {
            Quick(o);
            o.Configuration = nobody;
        });
        var items = new[] { TierHarness.Item("k", 1) };
        var watch = Stopwatch.StartNew();
        await h.Tier.WriteAsync(items, CancellationToken.None);
        Assert.Equal(ZsWritebackOutcome.Failed, items[0].Outcome);
        Assert.Null(await h.Tier.ReadAsync("k", Now, CancellationToken.None));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), $"took {watch.Elapsed}");
        Assert.NotEmpty(h.Warnings(4));

        var check = new ZsRedisHealthCheck(h.Tier);
        var result = await check.CheckHealthAsync(new HealthCheckContext { Registration = new HealthCheckRegistration("redis", check, HealthStatus.Unhealthy, null) });
        Assert.NotEqual(HealthStatus.Healthy, result.Status);
    }
}
