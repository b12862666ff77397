using System.Diagnostics;
using System.Globalization;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using StackExchange.Redis;
using ZsCache.Redis.Internal;

namespace ZsCache.Benchmarks.Writeback;

/// <summary>
/// <c>faultin-pairs</c> mode: the fault-in ratio (ZsCache Get of a written-back key / RedisCache Get
/// of the same value) measured with both sides interleaved in one process, plus the steps in
/// between, so the difference can be taken apart.
/// </summary>
/// <remarks>
/// <para>Why beside <see cref="FaultInBenchmarks"/>: BenchmarkDotNet measures each case in its own
/// process minutes apart, and on this shared 2-core machine the load changes in between. Here
/// every variant runs in one process against one redis-server, in rounds that alternate (the order
/// rotates every round), each round <c>--entries</c> distinct keys read once, one at a time.</para>
/// <para>The variants, from the floor up:</para>
/// <list type="number">
/// <item><description><c>GET</c>: StackExchange.Redis <c>StringGetAsync</c> of ZsCache's payload key on the
/// tier's own multiplexer: one plain round trip carrying the compressed payload.</description></item>
/// <item><description><c>HMGET</c>: <c>HashGetAsync(absexp, sldexp, data)</c> of RedisCache's key on the same
/// multiplexer: RedisCache's read without RedisCache.</description></item>
/// <item><description><c>EVALSHA Read</c>: the tier's bounded read script (<c>RedisScripts.Read</c>: STRLEN then
/// GET in Lua) without the tier: all reads went this way until 2026-11-29; now only payloads longer
/// than <c>RedisWritebackTier.FirstReadBytes</c> do.</description></item>
/// <item><description><c>GETRANGE 0 first</c>: the tier's first read (the first 64 KiB and one byte), without the tier.</description></item>
/// <item><description><c>GETRANGE + WaitAsync</c>: that, awaited through <c>WaitAsync</c> on a timeout token, as the
/// tier awaits it so that Polly's attempt timeout can give up on a stalled reply.</description></item>
/// <item><description><c>Polly pipeline + GETRANGE</c>: that, inside a pipeline shaped like the tier's (timeout,
/// retry, circuit breaker, timeout): what Polly itself costs per read.</description></item>
/// <item><description><c>tier.ReadAsync</c>: the read through the tier's Polly pipeline, payload header decoded.</description></item>
/// <item><description><c>ZsCache.GetAsync</c> fault-in: the whole path (coalescing, Task.Yield, LZ4 decode,
/// admission into the pool, the copy handed to the caller). The pool is emptied before each of
/// its rounds, outside the timing; each of its Gets is checked to be a fault-in.</description></item>
/// <item><description>and the sync pair <c>RedisCache.Get</c> / <c>ZsCache.Get</c>.</description></item>
/// </list>
/// <para>Per variant: wall µs per Get (median of rounds), the median of the per-round ratio to
/// RedisCache of the same flavour (async or sync), CPU per Get of this process (all threads) and of
/// redis-server (from <c>/proc</c>, 10 ms ticks, so summed over all rounds), allocated bytes per Get
/// (whole process), and Redis commands per Get (<c>INFO commandstats</c> around one round).</para>
/// </remarks>
public static class FaultInPairs
{
    private const int WarmupRounds = 3;


    private sealed class Variant(string name, string group, bool faultIn, Func<int, ValueTask<int>>? async, Func<int, int>? sync)
    {
        public string Name { get; } = name;

        public string Group { get; } = group;

        public bool FaultIn { get; } = faultIn;

        public Func<int, ValueTask<int>>? Async { get; } = async;

        public Func<int, int>? Sync { get; } = sync;

        public List<double> MicrosPerGet { get; } = [];

        public List<double> Ratios { get; } = [];

        public double ClientCpu { get; set; }

        public double ServerCpu { get; set; }

        public long Allocated { get; set; }

        public long Gets { get; set; }

        public string Commands { get; set; } = "";
    }

    public static int Run(HarnessArgs options)
    {
        string valueSet = options.GetString("values", "small");
        int count = (int)options.GetInt64("entries", 500);
        int rounds = (int)options.GetInt64("rounds", 20);
        Console.WriteLine($"faultin-pairs values={valueSet} keys={count} rounds={rounds} (+{WarmupRounds} warm-up) load average {LoadAverage()}");

        using var rig = WritebackRig.Start();
        var (keys, values) = WritebackRig.Select(valueSet, count);
        rig.FillZs(keys, values);
        rig.EvictAll();
        Task.WaitAll(keys.Select((k, i) => rig.Peer.SetAsync(k, values[i], WritebackRig.NoExpiration)).ToArray());

        var database = rig.Tier.Multiplexer!.GetDatabase();
        RedisKey[] zsKeys = keys.Select(k => (RedisKey)("zs:" + k)).ToArray();
        RedisKey[] peerKeys = keys.Select(k => (RedisKey)("peer:" + k)).ToArray();
        RedisValue[] hashFields = ["absexp", "sldexp", "data"];
        long readCap = rig.Tier.ReadCap;
        long firstRead = RedisWritebackTier.FirstReadBytes;
        var zs = rig.Zs;
        var peer = rig.Peer;
        var tier = rig.Tier;
        var pipeline = new ResiliencePipelineBuilder()
            .AddTimeout(TimeSpan.FromSeconds(5))
            .AddRetry(new RetryStrategyOptions { MaxRetryAttempts = 2, UseJitter = true })
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions())
            .AddTimeout(TimeSpan.FromSeconds(1))
            .Build();

        int Check(byte[]? value, int i) => value is not null && value.Length == values[i].Length
            ? value.Length
            : throw new InvalidDataException($"'{keys[i]}' read back {(value is null ? "null" : value.Length + " bytes")}, expected {values[i].Length}");

        var variants = new List<Variant>
        {
            new("RedisCache.GetAsync", "async", false, async i => Check(await peer.GetAsync(keys[i]).ConfigureAwait(false), i), null),
            new("GET payload (SE.Redis)", "async", false, async i => ((byte[]?)await database.StringGetAsync(zsKeys[i]).ConfigureAwait(false))?.Length ?? throw new InvalidDataException("GET missed"), null),
            new("HMGET absexp sldexp data (SE.Redis)", "async", false, async i => ((byte[]?)(await database.HashGetAsync(peerKeys[i], hashFields).ConfigureAwait(false))[2])?.Length ?? throw new InvalidDataException("HMGET missed"), null),
            new("EVALSHA Read script (SE.Redis)", "async", false, async i => ((byte[]?)await database.ScriptEvaluateAsync(RedisScripts.Read, [zsKeys[i]], [readCap]).ConfigureAwait(false))?.Length ?? throw new InvalidDataException("script missed"), null),
            new("GETRANGE 0 first (SE.Redis)", "async", false, async i => ((byte[]?)await database.StringGetRangeAsync(zsKeys[i], 0, firstRead).ConfigureAwait(false))?.Length ?? throw new InvalidDataException("GETRANGE missed"), null),
            new("GETRANGE + WaitAsync(timeout token)", "async", false, async i =>
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                return ((byte[]?)await database.StringGetRangeAsync(zsKeys[i], 0, firstRead).WaitAsync(timeout.Token).ConfigureAwait(false))?.Length ?? throw new InvalidDataException("GETRANGE missed");
            }, null),
            new("Polly pipeline + GETRANGE", "async", false, async i => ((byte[]?)await pipeline.ExecuteAsync(
                static async (state, token) => await state.database.StringGetRangeAsync(state.Item2, 0, state.firstRead).WaitAsync(token).ConfigureAwait(false),
                (database, zsKeys[i], firstRead), CancellationToken.None).ConfigureAwait(false))?.Length ?? throw new InvalidDataException("GETRANGE missed"), null),
            new("tier.ReadAsync (Polly + read + header)", "async", false, async i => (await tier.ReadAsync(keys[i], DateTimeOffset.UtcNow, CancellationToken.None).ConfigureAwait(false))?.Data.Length ?? throw new InvalidDataException("tier missed"), null),
            new("ZsCache.GetAsync, fault-in", "async", true, async i => Check(await zs.GetAsync(keys[i]).ConfigureAwait(false), i), null),
            new("RedisCache.Get", "sync", false, null, i => Check(peer.Get(keys[i]), i)),
            new("ZsCache.Get, fault-in", "sync", true, null, i => Check(zs.Get(keys[i]), i)),
        };

        using var self = Process.GetCurrentProcess();
        for (int round = 0; round < WarmupRounds + rounds; round++)
        {
            bool measured = round >= WarmupRounds;
            var micros = new Dictionary<Variant, double>();
            for (int v = 0; v < variants.Count; v++)
            {
                var variant = variants[(v + round) % variants.Count];
                long hitsBefore = 0;
                if (variant.FaultIn)
                {
                    rig.EvictAll();
                    hitsBefore = zs.GetStatistics().WritebackHits;
                }

                Dictionary<string, long>? commandsBefore = measured && variant.Commands.Length == 0 ? rig.CommandStats() : null;
                self.Refresh();
                TimeSpan cpuBefore = self.TotalProcessorTime;
                long serverBefore = ServerTicks(rig.RedisPid);
                long allocatedBefore = GC.GetTotalAllocatedBytes(precise: false);
                long start = Stopwatch.GetTimestamp();
                if (variant.Sync is { } sync)
                {
                    for (int i = 0; i < count; i++)
                    {
                        sync(i);
                    }
                }
                else
                {
                    RunAsync(variant.Async!, count).GetAwaiter().GetResult();
                }

                TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
                long allocated = GC.GetTotalAllocatedBytes(precise: false) - allocatedBefore;
                long serverTicks = ServerTicks(rig.RedisPid) - serverBefore;
                self.Refresh();
                TimeSpan cpu = self.TotalProcessorTime - cpuBefore;
                if (variant.FaultIn && zs.GetStatistics().WritebackHits - hitsBefore != count)
                {
                    throw new InvalidOperationException($"{variant.Name}: {zs.GetStatistics().WritebackHits - hitsBefore} fault-ins for {count} Gets");
                }

                if (commandsBefore is not null)
                {
                    var after = rig.CommandStats();
                    variant.Commands = string.Join(", ", after
                        .Where(p => p.Key != "info" && p.Value - commandsBefore.GetValueOrDefault(p.Key) > 0)
                        .Select(p => $"{p.Key} {(double)(p.Value - commandsBefore.GetValueOrDefault(p.Key)) / count:F2}"));
                }

                if (!measured)
                {
                    continue;
                }

                double perGet = elapsed.TotalMicroseconds / count;
                micros[variant] = perGet;
                variant.MicrosPerGet.Add(perGet);
                variant.ClientCpu += cpu.TotalMicroseconds;
                variant.ServerCpu += serverTicks * 1e6 / 100;
                variant.Allocated += allocated;
                variant.Gets += count;
            }

            if (measured)
            {
                foreach (var variant in variants)
                {
                    var baseline = variants.First(b => b.Group == variant.Group && b.Name.StartsWith("RedisCache", StringComparison.Ordinal));
                    variant.Ratios.Add(micros[variant] / micros[baseline]);
                }
            }
        }

        Console.WriteLine();
        Console.WriteLine($"values={valueSet}: mean value {values.Average(v => v.Length):F0} B; load average at the end {LoadAverage()}");
        Console.WriteLine();
        Console.WriteLine("| variant | µs/Get median (p25–p75) | / RedisCache, median of rounds (p25–p75) | client CPU µs/Get | redis-server CPU µs/Get | B/Get (process) | Redis commands per Get |");
        Console.WriteLine("|---|---:|---|---:|---:|---:|---|");
        foreach (var variant in variants)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {variant.Name} | {Percentile(variant.MicrosPerGet, 0.5):F1} ({Percentile(variant.MicrosPerGet, 0.25):F1}–{Percentile(variant.MicrosPerGet, 0.75):F1}) | {Percentile(variant.Ratios, 0.5):F2}× ({Percentile(variant.Ratios, 0.25):F2}–{Percentile(variant.Ratios, 0.75):F2}) | {variant.ClientCpu / variant.Gets:F1} | {variant.ServerCpu / variant.Gets:F1} | {variant.Allocated / variant.Gets:N0} | {variant.Commands} |"));
        }

        return 0;
    }

    private static async Task RunAsync(Func<int, ValueTask<int>> get, int count)
    {
        for (int i = 0; i < count; i++)
        {
            await get(i).ConfigureAwait(false);
        }
    }

    private static double Percentile(List<double> samples, double p)
    {
        var sorted = samples.Order().ToArray();
        double rank = p * (sorted.Length - 1);
        int low = (int)Math.Floor(rank);
        int high = Math.Min(low + 1, sorted.Length - 1);
        return sorted[low] + ((sorted[high] - sorted[low]) * (rank - low));
    }

    /// <summary>utime + stime of a process, in clock ticks (USER_HZ, 100 per second here).</summary>
    private static long ServerTicks(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
    }

    private static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ')[..3]);
}
