using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;
using ZsCache.Reliability.Tests.Support;
using ZsCache.Soak;
using ZsCache.Testing.Redis;

namespace ZsCache.Reliability.Tests.Faults;

/// <summary>
/// The load of <see cref="Load.LoadTests"/> with Redis failing underneath: killed and restarted,
/// paused, put to sleep, full, its connections dropped. For each: no exception reaches a caller,
/// no stale or corrupt value is read, the pool stays under its limit, and afterwards the cache
/// writes back and faults in normally again. The figures go to the test output.
/// </summary>
/// <remarks>
/// Lost values are allowed here (a killed Redis without persistence forgets everything written
/// back; a tier that is down makes the shrinker drop cold entries), and counted.
/// </remarks>
public sealed class FaultTests(RedisServerFixture redis, ITestOutputHelper output) : IClassFixture<RedisServerFixture>
{
    private static readonly TimeSpan RecoveryBound = TimeSpan.FromSeconds(45);

    [SkippableFact]
    public Task Redis_killed_and_restarted_repeatedly() =>
        RunAsync(new FaultPlan(FaultKind.KillRestart, Cycles: 3, Hold: TimeSpan.FromSeconds(1.5), Gap: TimeSpan.FromSeconds(2.5)),
            sut => sut.Logs.Count(6) + sut.Tier!.Failed + sut.Tier.FencesFailed > 0);

    // Slowness: 3.5 s outlasts one call's attempts (three of 1 s with backoff between), so reads,
    // writes and fences fail and the breaker sees it; shorter pauses are absorbed by the retries.
    [SkippableFact]
    public Task Redis_paused_with_CLIENT_PAUSE() =>
        RunAsync(new FaultPlan(FaultKind.ClientPause, Cycles: 2, Hold: TimeSpan.FromSeconds(3.5), Gap: TimeSpan.FromSeconds(2)),
            sut => sut.Logs.Count(6) + sut.Tier!.Failed + sut.Tier.FencesFailed > 0);

    [SkippableFact]
    public Task Redis_asleep_with_DEBUG_SLEEP() =>
        RunAsync(new FaultPlan(FaultKind.DebugSleep, Cycles: 2, Hold: TimeSpan.FromSeconds(3.5), Gap: TimeSpan.FromSeconds(2)),
            sut => sut.Logs.Count(6) + sut.Tier!.Failed + sut.Tier.FencesFailed > 0);

    [SkippableFact]
    public Task Redis_full_refusing_writes() =>
        RunAsync(new FaultPlan(FaultKind.Full, Cycles: 2, Hold: TimeSpan.FromSeconds(3), Gap: TimeSpan.FromSeconds(2)),
            sut => sut.Tier!.Failed + sut.Tier.FencesFailed > 0);

    [SkippableFact]
    public Task Connections_dropped_with_CLIENT_KILL() =>
        RunAsync(new FaultPlan(FaultKind.ConnectionDrop, Cycles: 6, Hold: TimeSpan.Zero, Gap: TimeSpan.FromSeconds(1)),
            sut => sut.Logs.Count(2) > 0);

    private async Task RunAsync(FaultPlan plan, Func<CacheUnderTest, bool> faultBit)
    {
        redis.SkipUnlessProcess();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var sut = CacheUnderTest.Create(redis.ConnectionString, o =>
        {
            o.MaxPoolBytes = Load.LoadTests.PoolBytes;
            o.InstanceName = $"fault-{plan.Kind}-{Guid.NewGuid():N}:";
        }, time);
        var warmup = Scale.Seconds(2);
        var faults = TimeSpan.FromTicks((plan.Hold + plan.Gap).Ticks * plan.Cycles);
        var driver = new LoadDriver(sut.Cache, time, new LoadOptions
        {
            Clients = 64,
            Keys = 4500,
            Duration = warmup + faults + Scale.Seconds(2),
            Seed = 100 + (int)plan.Kind,
            AdvanceClock = time.Advance,
        });
        await driver.PrefillAsync();

        var injector = new FaultInjector(new FixtureControl(redis));
        var load = driver.RunAsync(CancellationToken.None);
        await Task.Delay(warmup); // the schedule: let the load settle before the first fault
        await injector.RunAsync(plan, CancellationToken.None);
        var report = await load;

        var during = sut.Figures();
        var rounds = await RecoveryProbe.WaitForNormalAsync(sut.Cache, sut.Tier!, RecoveryBound);
        var fencesDrained = await Bounded.WaitAsync(() => sut.Cache.GetStatistics().PendingFences == 0, RecoveryBound);

        output.WriteLine($"fault: {plan}");
        output.WriteLine(string.Join(Environment.NewLine, injector.Events));
        output.WriteLine(report.Describe());
        output.WriteLine(during);
        output.WriteLine($"recovery           {(rounds > 0 ? $"normal after {rounds} probe round(s)" : "NOT normal")}; pending fences {(fencesDrained ? "drained" : "NOT drained")}");
        foreach (var line in sut.Logs.Recent.Take(5))
        {
            output.WriteLine("  " + line);
        }

        Assert.True(injector.Injected == plan.Cycles, "every fault was injected");
        Assert.True(faultBit(sut), "the fault reached the cache (failures were counted)");
        Assert.True(report.Clean, report.Describe());
        Assert.True(report.MaxPoolBytes <= Load.LoadTests.PoolBytes);
        Assert.True(rounds > 0, "writeback and fault-in work again after the fault");
        Assert.True(fencesDrained, "every fence queued during the fault reached Redis afterwards");
        Assert.True(sut.Cache.Pool.TotalBytes <= Load.LoadTests.PoolBytes);
    }
}
