using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ZsCache.Redis;
using ZsCache.Redis.Internal;
using ZsCache.Writeback;

namespace ZsCache.Soak;

/// <summary>
/// <c>soak</c>: the reliability suite's load (64 clients, Zipf keys, every read checked against
/// the history model) against a redis-server of its own, with Redis killed, paused, put to
/// sleep, filled and its connections dropped in turn, for a given time; prints a summary.
/// </summary>
/// <remarks>
/// <code>
/// dotnet run -c Release --project bench/ZsCache.Benchmarks -- soak [--minutes 10] [--clients 64]
///     [--keys 40000] [--pool-mb 16] [--seed 1] [--no-faults] [--fault-every 30] [--redis-server PATH]
/// </code>
/// Exit code 0 when every read was acceptable, no call threw, the pool kept its limit and the
/// cache served normally again after the last fault; 1 otherwise; 2 when it could not start.
/// </remarks>
internal static class SoakCommand
{
    private static readonly (FaultKind Kind, TimeSpan Hold)[] Cycle =
    [
        (FaultKind.KillRestart, TimeSpan.FromSeconds(3)),
        (FaultKind.ClientPause, TimeSpan.FromSeconds(3.5)),
        (FaultKind.ConnectionDrop, TimeSpan.Zero),
        (FaultKind.DebugSleep, TimeSpan.FromSeconds(3.5)),
        (FaultKind.Full, TimeSpan.FromSeconds(5)),
    ];

    public static int Run(string[] args) => RunAsync(args).GetAwaiter().GetResult();

    private static async Task<int> RunAsync(string[] args)
    {
        var minutes = Number(args, "--minutes", 10);
        var clients = (int)Number(args, "--clients", 64);
        var keys = (int)Number(args, "--keys", 40_000);
        var poolBytes = (long)(Number(args, "--pool-mb", 16) * 1024 * 1024);
        var seed = (int)Number(args, "--seed", 1);
        var faultEvery = TimeSpan.FromSeconds(Number(args, "--fault-every", 30));
        var faults = !args.Contains("--no-faults");
        var executable = Text(args, "--redis-server") ?? SoakRedisServer.FindOnPath("redis-server");
        if (executable is null)
        {
            Console.Error.WriteLine("soak: redis-server is not on PATH (or pass --redis-server PATH).");
            return 2;
        }

        var duration = TimeSpan.FromMinutes(minutes);
        await using var redis = await SoakRedisServer.StartNewAsync(executable);
        var logs = new CountingLoggerProvider();
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Information));
        services.AddZsCache(o =>
        {
            o.MaxPoolBytes = poolBytes;
            o.InstanceName = "soak:";
        }).AddRedisWriteback(r => r.Configuration = redis.ConnectionString);
        services.AddSingleton(sp => new CountingTier(sp.GetRequiredService<RedisWritebackTier>()));
        services.AddSingleton<IZsWritebackTier>(sp => sp.GetRequiredService<CountingTier>());
        await using var provider = services.BuildServiceProvider();
        var cache = provider.GetRequiredService<ZsDistributedCache>();
        var tier = provider.GetRequiredService<CountingTier>();
        using var counters = new CacheCounters(cache.Meter);

        var driver = new LoadDriver(cache, TimeProvider.System, new LoadOptions
        {
            Clients = clients,
            Keys = keys,
            Duration = duration,
            Seed = seed,
            MinLife = TimeSpan.FromSeconds(30),
            MaxLife = TimeSpan.FromMinutes(10),
        });

        Say($"soak: {minutes} min, {clients} clients, {keys:N0} Zipf keys, pool {poolBytes / 1024 / 1024} MiB, redis-server {redis.ConnectionString} (pid {Environment.ProcessId} is the driver), faults {(faults ? $"every {faultEvery.TotalSeconds:0} s" : "off")}");
        Say($"machine: {Environment.ProcessorCount} cores, load average {LoadAverage()}, .NET {Environment.Version}");
        var keySpace = await driver.PrefillAsync();
        Say($"key space: {keySpace.OriginalBytes:N0} bytes, about {keySpace.CompressedBytes:N0} compressed = {keySpace.CompressedBytes / (double)poolBytes:0.0}x the pool");

        var injector = new FaultInjector(redis);
        using var stopFaults = new CancellationTokenSource();
        var watch = Stopwatch.StartNew();
        var load = driver.RunAsync(CancellationToken.None);
        var faultLoop = faults ? InjectAsync(injector, faultEvery, duration - TimeSpan.FromSeconds(30), stopFaults.Token) : Task.CompletedTask;
        long maxWorkingSet = 0, maxHeap = 0;
        while (!load.IsCompleted)
        {
            await Task.WhenAny(load, Task.Delay(TimeSpan.FromSeconds(30)));
            maxWorkingSet = Math.Max(maxWorkingSet, Environment.WorkingSet);
            maxHeap = Math.Max(maxHeap, GC.GetGCMemoryInfo().HeapSizeBytes);
            var r = driver.Report(watch.Elapsed);
            Say($"{watch.Elapsed:mm\\:ss} ops {r.Operations:N0} ({r.Operations / Math.Max(1, watch.Elapsed.TotalSeconds):N0}/s), violations {r.Stale + r.Corrupt + r.OtherKey + r.ServedLate + r.Exceptions + r.PoolOverLimit}, lost {r.MissesLost:N0}, pool {cache.Pool.TotalBytes / 1024 / 1024} MiB, written {tier.Written:N0}, failed {tier.Failed:N0}, dropped {counters.Dropped:N0}, faults {injector.Injected}, working set {Environment.WorkingSet / 1024 / 1024} MiB");
        }

        await stopFaults.CancelAsync();
        await faultLoop;
        var report = await load;
        var rounds = await RecoveryProbe.WaitForNormalAsync(cache, tier, TimeSpan.FromSeconds(60));
        var drained = await Bounded.WaitAsync(() => cache.GetStatistics().PendingFences == 0, TimeSpan.FromSeconds(60));

        Say("");
        Say("==== soak summary ====");
        Say($"command            dotnet run -c Release --project bench/ZsCache.Benchmarks -- soak {string.Join(' ', args)}");
        Say($"faults injected    {injector.Injected}: {string.Join(", ", injector.ByKind.OrderBy(p => p.Key).Select(p => $"{p.Key} x{p.Value}"))}");
        Say(report.Describe().TrimEnd());
        Say(Figures.Describe(cache, counters, tier, logs));
        Say($"memory             max working set {maxWorkingSet / 1024 / 1024} MiB, max GC heap {maxHeap / 1024 / 1024} MiB (pool limit {poolBytes / 1024 / 1024} MiB)");
        Say($"recovery           {(rounds > 0 ? $"normal after {rounds} probe round(s)" : "NOT normal")}; pending fences {(drained ? "drained" : "NOT drained")}");
        var ok = report.Clean && rounds > 0 && drained;
        Say($"result             {(ok ? "PASS" : "FAIL")}");
        return ok ? 0 : 1;
    }

    /// <summary>One fault of the cycle every <paramref name="every"/>, until <paramref name="until"/> (the load's last half minute is quiet).</summary>
    private static async Task InjectAsync(FaultInjector injector, TimeSpan every, TimeSpan until, CancellationToken stop)
    {
        var watch = Stopwatch.StartNew();
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            try
            {
                await Task.Delay(every, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (watch.Elapsed > until)
            {
                return;
            }

            var (kind, hold) = Cycle[i % Cycle.Length];
            try
            {
                await injector.InjectAsync(kind, hold);
            }
            catch (Exception ex) when (ex is IOException or InvalidOperationException or System.Net.Sockets.SocketException)
            {
                Say($"fault {kind} could not be injected: {ex.Message}");
            }
        }
    }

    private static void Say(string line) => Console.WriteLine(line);

    private static double Number(string[] args, string name, double fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length && double.TryParse(args[i + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : fallback;
    }

    private static string? Text(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    private static string LoadAverage()
    {
        try
        {
            return File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
        }
        catch (IOException)
        {
            return "n/a";
        }
    }
}
