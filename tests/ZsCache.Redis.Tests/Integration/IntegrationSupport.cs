using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ZsCache.Testing.Logging;

namespace ZsCache.Redis.Tests.Integration;

/// <summary>Builds whole caches (pool + Redis tier) through the public registration, as an app does.</summary>
internal static class Caches
{
    public static readonly DistributedCacheEntryOptions NoExpiry = new();

    public static ServiceProvider Build(
        string configuration,
        string instance,
        long poolBytes,
        Action<ZsRedisOptions>? tune = null,
        CollectingLoggerProvider? logs = null,
        long maxValueBytes = 0,
        Action<ZsCacheOptions>? configure = null)
    {
        var services = new ServiceCollection();
        if (logs is not null)
        {
            services.AddLogging(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Information));
        }

        services.AddZsCache(o =>
        {
            o.MaxPoolBytes = poolBytes;
            o.InstanceName = instance;
            if (maxValueBytes > 0)
            {
                o.MaxValueBytes = maxValueBytes;
            }

            configure?.Invoke(o);
        }).AddRedisWriteback(r =>
        {
            r.Configuration = configuration;
            tune?.Invoke(r);
        });
        return services.BuildServiceProvider();
    }

    /// <summary>Short timeouts and a quick breaker, so fault tests see the tier give up and come back within seconds.</summary>
    public static void Quick(ZsRedisOptions o)
    {
        o.AttemptTimeout = TimeSpan.FromMilliseconds(300);
        o.TotalTimeout = TimeSpan.FromSeconds(1);
        o.RetryDelay = TimeSpan.FromMilliseconds(10);
        o.BreakerMinimumThroughput = 4;
        o.BreakerSamplingDuration = TimeSpan.FromSeconds(5);
        o.BreakDuration = TimeSpan.FromSeconds(1);
    }

    /// <summary>
    /// Timeouts long enough that a loaded machine (two cores shared with a build) does not turn a
    /// slow reply into a failed attempt, for tests that assert on exactly which warnings appear.
    /// </summary>
    public static void Patient(ZsRedisOptions o)
    {
        o.AttemptTimeout = TimeSpan.FromSeconds(5);
        o.TotalTimeout = TimeSpan.FromSeconds(10);
    }

    /// <summary>
    /// Polls <paramref name="condition"/> until it holds or <paramref name="bound"/> passes.
    /// A bounded wait on a condition, never a sleep standing in for one.
    /// </summary>
    public static async Task<bool> WaitUntilAsync(Func<bool> condition, TimeSpan bound)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed > bound)
            {
                return false;
            }

            await Task.Delay(20);
        }

        return true;
    }

    /// <inheritdoc cref="WaitUntilAsync(Func{bool}, TimeSpan)"/>
    public static async Task<bool> WaitUntilAsync(Func<Task<bool>> condition, TimeSpan bound)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            if (watch.Elapsed > bound)
            {
                return false;
            }

            await Task.Delay(20);
        }

        return true;
    }

    /// <summary>
    /// Waits (bounded) until the tier is connected and answers. The first command on a cold,
    /// loaded machine (connect, JIT, script load) can outlast the one-second attempt timeout, and
    /// a burst of those opens the breaker for its break duration; the tests measure the steady state.
    /// </summary>
    public static async Task WarmUpAsync(ZsDistributedCache cache)
    {
        var tier = cache.Tier!;
        var warm = await WaitUntilAsync(async () => tier.IsAvailable && await tier.FenceAsync("warm-up", 1, CancellationToken.None), TimeSpan.FromSeconds(30));
        Assert.True(warm, "the Redis tier answers within 30 s");
    }

    /// <summary>Waits (bounded) until every Set and Remove of <paramref name="cache"/> is confirmed by the tier.</summary>
    public static async Task DrainFencesAsync(ZsDistributedCache cache, TimeSpan bound)
    {
        var drained = await WaitUntilAsync(() => cache.GetStatistics().PendingFences == 0, bound);
        Assert.True(drained, $"{cache.GetStatistics().PendingFences} fences still pending after {bound}");
    }

    /// <summary>Deterministic values of mixed compressibility and size (repetitive JSON-ish text or random bytes).</summary>
    public static byte[] Value(int i, int maxBytes = 8000)
    {
        var random = new Random(i);
        var size = 64 + random.Next(maxBytes - 64);
        var bytes = new byte[size];
        if (random.Next(2) == 0)
        {
            random.NextBytes(bytes);
        }
        else
        {
            var text = new StringBuilder(size + 64);
            while (text.Length < size)
            {
                text.Append("{\"id\":").Append(i).Append(",\"name\":\"item ").Append(random.Next(1000)).Append("\"},");
            }

            Encoding.ASCII.GetBytes(text.ToString(0, size), bytes);
        }

        return bytes;
    }
}

/// <summary>
/// The test's model of what each key may read as. Sets and Removes of one key are serialized by
/// a per-key lock and numbered there (write ids grow per key, so they are in the cache's version
/// order); every value carries its key and write id, so a read tells exactly which write it saw.
/// </summary>
/// <remarks>
/// <para>A read that starts after an operation completed may return that operation's value (a Set),
/// any later Set's value, or a miss; never the value of an earlier Set, nor after a completed
/// Remove the value it removed. After quiescence, the last operation decides.</para>
/// </remarks>
internal sealed class WriteModel
{
    private const byte KindSet = 1;
    private const byte KindRemove = 2;

    private readonly string _prefix;
    private readonly int _maxValueBytes;
    private readonly SemaphoreSlim[] _locks;
    private readonly long[] _issued;
    private readonly long[] _completed;
    private readonly byte[][] _kinds;
    private readonly ConcurrentQueue<string> _violations = new();

    public WriteModel(string prefix, int keys, int maxOpsPerKey, int maxValueBytes)
    {
        _prefix = prefix;
        _maxValueBytes = maxValueBytes;
        _locks = new SemaphoreSlim[keys];
        _issued = new long[keys];
        _completed = new long[keys];
        _kinds = new byte[keys][];
        for (var k = 0; k < keys; k++)
        {
            _locks[k] = new SemaphoreSlim(1, 1);
            _kinds[k] = new byte[maxOpsPerKey + 2];
        }
    }

    public int Keys => _locks.Length;

    public IReadOnlyCollection<string> Violations => _violations;

    public long Reads;
    public long Hits;
    public long StaleReads;

    public string Key(int k) => _prefix + k.ToString(CultureInfo.InvariantCulture);

    /// <summary>The value of write <paramref name="id"/> of key <paramref name="k"/>: "key#id#" and a body derived from both.</summary>
    public byte[] Value(int k, long id)
    {
        var head = Encoding.ASCII.GetBytes($"{Key(k)}#{id.ToString(CultureInfo.InvariantCulture)}#");
        var body = Caches.Value(unchecked((k * 1_000_003) + (int)id), _maxValueBytes);
        var value = new byte[head.Length + body.Length];
        head.CopyTo(value, 0);
        body.CopyTo(value, head.Length);
        return value;
    }

    /// <summary>Runs a Set (value given) or a Remove (null) of key <paramref name="k"/> under its lock and records it once complete.</summary>
    public async Task MutateAsync(int k, bool set, Func<string, byte[]?, Task> apply)
    {
        await _locks[k].WaitAsync();
        try
        {
            var id = _issued[k] + 1;
            Volatile.Write(ref _kinds[k][id], set ? KindSet : KindRemove);
            Volatile.Write(ref _issued[k], id);
            await apply(Key(k), set ? Value(k, id) : null);
            Volatile.Write(ref _completed[k], (id << 1) | (set ? 1L : 0L));
        }
        finally
        {
            _locks[k].Release();
        }
    }

    /// <summary>The last completed operation of key <paramref name="k"/> (take it before a read starts).</summary>
    public long Snapshot(int k) => Volatile.Read(ref _completed[k]);

    public void Violation(string message) => _violations.Enqueue(message);

    /// <summary>Checks a read that ran concurrently with writes; <paramref name="before"/> is <see cref="Snapshot"/> taken before it started.</summary>
    public void CheckConcurrent(int k, long before, byte[]? got, string how)
    {
        Interlocked.Increment(ref Reads);
        if (got is null)
        {
            return;
        }

        Interlocked.Increment(ref Hits);
        if (!TryIdentify(k, got, out var id, out var problem))
        {
            Violation($"{how} {Key(k)}: {problem}");
            return;
        }

        var beforeId = before >> 1;
        var beforeWasSet = (before & 1) == 1;
        if (id < beforeId || (id == beforeId && !beforeWasSet))
        {
            Interlocked.Increment(ref StaleReads);
            Violation($"{how} {Key(k)}: read write #{id} although {(beforeWasSet ? "Set" : "Remove")} #{beforeId} had completed before the read began");
        }

        if (id > Volatile.Read(ref _issued[k]) || Volatile.Read(ref _kinds[k][id]) != KindSet)
        {
            Violation($"{how} {Key(k)}: read write #{id}, which was never a Set");
        }
    }

    /// <summary>What a quiescent read of key <paramref name="k"/> returned, judged against its last operation.</summary>
    public FinalRead Judge(int k, byte[]? got, out string detail)
    {
        var last = Snapshot(k);
        var lastId = last >> 1;
        var lastWasSet = (last & 1) == 1;
        if (got is null)
        {
            detail = lastWasSet ? $"{Key(k)}: miss, last op Set #{lastId}" : string.Empty;
            return lastWasSet ? FinalRead.MissOfLastSet : FinalRead.Exact;
        }

        if (!TryIdentify(k, got, out var id, out var problem))
        {
            detail = $"{Key(k)}: {problem}";
            return FinalRead.Wrong;
        }

        if (lastWasSet && id == lastId)
        {
            detail = string.Empty;
            return FinalRead.Exact;
        }

        detail = $"{Key(k)}: read write #{id}, but the last completed op was {(lastWasSet ? "Set" : lastId == 0 ? "nothing" : "Remove")} #{lastId}";
        return id < lastId || !lastWasSet ? FinalRead.Stale : FinalRead.Wrong;
    }

    private bool TryIdentify(int k, byte[] got, out long id, out string problem)
    {
        id = 0;
        var text = Encoding.ASCII.GetString(got, 0, Math.Min(got.Length, 64));
        var parts = text.Split('#');
        if (parts.Length < 3 || parts[0] != Key(k) || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out id))
        {
            problem = $"{got.Length} bytes that are not a value of this key (garbage or another key's value)";
            return false;
        }

        if (id < 1 || id > Volatile.Read(ref _issued[k]))
        {
            problem = $"write id #{id} was never issued";
            return false;
        }

        if (!got.AsSpan().SequenceEqual(Value(k, id)))
        {
            problem = $"write #{id} with corrupted bytes ({got.Length} bytes)";
            return false;
        }

        problem = string.Empty;
        return true;
    }

    /// <summary>
    /// Reads every key through <paramref name="read"/> and judges it. With
    /// <paramref name="missAllowed"/> false, misses of a last Set are read again until they
    /// resolve or <paramref name="bound"/> passes (a store that bypassed the pool may still be
    /// on its way to Redis); an older value is a violation at once, whatever the rule.
    /// </summary>
    public async Task<(int Exact, int Missed)> VerifyQuiescentAsync(Func<string, Task<byte[]?>> read, bool missAllowed, string who, TimeSpan bound)
    {
        var exact = 0;
        var pending = new List<int>();
        for (var k = 0; k < Keys; k++)
        {
            var verdict = Judge(k, await read(Key(k)), out var detail);
            switch (verdict)
            {
                case FinalRead.Exact:
                    exact++;
                    break;
                case FinalRead.MissOfLastSet:
                    pending.Add(k);
                    break;
                default:
                    Violation($"{who}: {verdict}: {detail}");
                    break;
            }
        }

        if (missAllowed || pending.Count == 0)
        {
            return (exact, pending.Count);
        }

        var watch = Stopwatch.StartNew();
        while (pending.Count > 0 && watch.Elapsed < bound)
        {
            await Task.Delay(20);
            for (var i = pending.Count - 1; i >= 0; i--)
            {
                var k = pending[i];
                var verdict = Judge(k, await read(Key(k)), out var detail);
                if (verdict == FinalRead.MissOfLastSet)
                {
                    continue;
                }

                pending.RemoveAt(i);
                if (verdict == FinalRead.Exact)
                {
                    exact++;
                }
                else
                {
                    Violation($"{who}: {verdict}: {detail}");
                }
            }
        }

        foreach (var k in pending)
        {
            Judge(k, null, out var detail);
            Violation($"{who}: still a miss after {bound}: {detail}");
        }

        return (exact, pending.Count);
    }

    public void AssertNoViolations()
    {
        var all = _violations.ToArray();
        Assert.True(all.Length == 0, $"{all.Length} violations:{Environment.NewLine}{string.Join(Environment.NewLine, all.Take(25))}");
    }
}

internal enum FinalRead
{
    Exact,
    MissOfLastSet,
    Stale,
    Wrong,
}
