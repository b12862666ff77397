using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;
using ZsCache.Benchmarks.Caches;
using ZsCache.Benchmarks.Corpus;
using ZsCache.Redis;
using ZsCache.Redis.Internal;

namespace ZsCache.Benchmarks.Writeback;

/// <summary>
/// One redis-server on loopback and the two caches that use it, each built the way an app builds
/// it (through DI): ZsCache with <c>AddRedisWriteback</c> (keys <c>zs:…</c>) and
/// <c>AddStackExchangeRedisCache</c> (keys <c>peer:…</c>). Same server, same process, so a fault-in
/// and a RedisCache Get meet the same Redis. Also the helpers the writeback benchmarks need:
/// waiting until Set's fences have reached Redis, evicting everything to (or from) the pool, and
/// counting what the writeback tier stored through the cache's own <c>ZsCache</c> meter.
/// </summary>
public sealed class WritebackRig : IDisposable
{
    /// <summary>ZsCache's pool: far above anything these benchmarks store, so the background shrinker never runs.</summary>
    public const long PoolBytes = 256L * 1024 * 1024;

    public static readonly DistributedCacheEntryOptions NoExpiration = new();

    private readonly RedisServerProcess _redis;
    private readonly ServiceProvider _services;
    private readonly MeterListener _listener = new();
    private ConnectionMultiplexer? _admin;
    private long _writtenObjects;
    private long _failedObjects;
    private long _writtenBytes;

    private WritebackRig(RedisServerProcess redis, ServiceProvider services)
    {
        _redis = redis;
        _services = services;
        Zs = services.GetRequiredService<ZsDistributedCache>();
        // AddZsCache registers IDistributedCache last, so it wins; the peer is the other registration.
        Peer = services.GetServices<IDistributedCache>().Single(c => c is not ZsDistributedCache);
        Tier = services.GetRequiredService<RedisWritebackTier>();

        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "ZsCache" && instrument.Name is "zscache.writeback.objects" or "zscache.writeback.bytes")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            if (instrument.Name == "zscache.writeback.bytes")
            {
                Interlocked.Add(ref _writtenBytes, value);
                return;
            }

            foreach (var tag in tags)
            {
                if (tag.Key == "result" && tag.Value as string == "ok")
                {
                    Interlocked.Add(ref _writtenObjects, value);
                }
                else if (tag.Key == "result")
                {
                    Interlocked.Add(ref _failedObjects, value);
                }
            }
        });
        _listener.Start();
    }

    /// <summary>ZsCache with the Redis writeback tier.</summary>
    public ZsDistributedCache Zs { get; }

    /// <summary>RedisCache (Microsoft.Extensions.Caching.StackExchangeRedis) on the same server.</summary>
    public IDistributedCache Peer { get; }

    /// <summary>ZsCache's tier itself (internal), for the decomposition in <c>faultin-pairs</c>.</summary>
    internal RedisWritebackTier Tier { get; }

    public int RedisPid => _redis.Pid;

    public string RedisConfiguration => _redis.Configuration;

    /// <summary>Objects the tier reported stored (<c>zscache.writeback.objects{result=ok}</c>).</summary>
    public long WrittenObjects => Volatile.Read(ref _writtenObjects);

    /// <summary>Objects the tier reported failed.</summary>
    public long FailedObjects => Volatile.Read(ref _failedObjects);

    /// <summary>Compressed data bytes stored (<c>zscache.writeback.bytes</c>; header and key not included).</summary>
    public long WrittenBytes => Volatile.Read(ref _writtenBytes);

    public static WritebackRig Start()
    {
        var redis = RedisServerProcess.TryStart(out string? reason)
            ?? throw new InvalidOperationException($"redis-server not available: {reason}");
        try
        {
            string configuration = redis.Configuration;
            var collection = new ServiceCollection();
            collection.AddLogging();
            collection.AddStackExchangeRedisCache(o =>
            {
                o.Configuration = configuration;
                o.InstanceName = "peer:";
            });
            collection.AddZsCache(o =>
            {
                o.MaxPoolBytes = PoolBytes;
                o.InstanceName = "zs:";
            }).AddRedisWriteback(r => r.Configuration = configuration);
            var services = collection.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
            var rig = new WritebackRig(redis, services);
            rig.Verify();
            return rig;
        }
        catch
        {
            redis.Dispose();
            throw;
        }
    }

    /// <summary>The values of a value set: <paramref name="count"/> corpus entries, deterministic.</summary>
    public static (string[] Keys, byte[][] Values) Select(string valueSet, int count)
    {
        var corpus = new JsonCorpus();
        long[] indices = BenchSettings.SelectIndices(corpus, valueSet, count);
        return (indices.Select(corpus.Key).ToArray(), indices.Select(corpus.Value).ToArray());
    }

    /// <summary>Zspages the pool holds (every class).</summary>
    public long Zspages => Zs.GetStatistics().Classes.Sum(c => c.Zspages);

    /// <summary>Stores every value in ZsCache (the pool) and waits until Redis has confirmed every fence those Sets raised.</summary>
    public void FillZs(string[] keys, byte[][] values)
    {
        for (int i = 0; i < keys.Length; i++)
        {
            Zs.Set(keys[i], values[i], NoExpiration);
        }

        WaitForFences();
    }

    /// <summary>
    /// Every Set and Remove of a cache with a tier sends a fence to Redis in the background (see
    /// <c>ZsDistributedCache.Writeback.cs</c>). Waits until none is pending, so that no fence
    /// traffic overlaps a measured region.
    /// </summary>
    public void WaitForFences()
    {
        var clock = Stopwatch.StartNew();
        while (Zs.GetStatistics().PendingFences > 0)
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new InvalidOperationException($"{Zs.GetStatistics().PendingFences} fences still pending after 60 s");
            }

            Thread.Sleep(1);
        }
    }

    /// <summary>
    /// Reclaims zspages until the pool holds no entry: dirty entries are written back, clean ones
    /// (faulted in, the tier still holds them) are freed without I/O; under the default EntryClock
    /// policy a referenced entry is spared once, so a page may take two visits. Bounded.
    /// </summary>
    public void EvictAll()
    {
        for (int pass = 0; pass < 8 && Zs.GetStatistics().EntriesInPool > 0; pass++)
        {
            Zs.ReclaimAsync((int)(2 * Zspages) + 16).GetAwaiter().GetResult();
        }

        long left = Zs.GetStatistics().EntriesInPool;
        if (left > 0)
        {
            throw new InvalidOperationException($"{left} entries still in the pool after eviction (tier failures: {FailedObjects})");
        }
    }

    /// <summary>
    /// Redis's own count of calls per command since start (<c>INFO commandstats</c>), read over a
    /// connection of its own (INFO needs admin mode in StackExchange.Redis); call it outside timed regions.
    /// </summary>
    public Dictionary<string, long> CommandStats()
    {
        _admin ??= ConnectionMultiplexer.Connect(_redis.Configuration + ",allowAdmin=true");
        var server = _admin.GetServer(_admin.GetEndPoints()[0]);
        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var group in server.Info("commandstats"))
        {
            foreach (var pair in group)
            {
                // cmdstat_evalsha: calls=12,usec=...,usec_per_call=...
                int start = pair.Value.IndexOf("calls=", StringComparison.Ordinal);
                int end = pair.Value.IndexOf(',', start);
                result[pair.Key.Replace("cmdstat_", "", StringComparison.Ordinal)] = long.Parse(pair.Value[(start + 6)..end], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return result;
    }

    /// <summary>Both caches round-trip a value before anyone measures them; ZsCache also through a writeback and a fault-in.</summary>
    private void Verify()
    {
        var (keys, values) = Select("mixed", 8);
        for (int i = 0; i < keys.Length; i++)
        {
            Peer.Set("probe:" + keys[i], values[i], NoExpiration);
            if (Peer.Get("probe:" + keys[i]) is not { } back || !back.AsSpan().SequenceEqual(values[i]))
            {
                throw new InvalidDataException("RedisCache did not return the bytes just set");
            }

            Peer.Remove("probe:" + keys[i]);
        }

        FillZs(keys, values);
        EvictAll();
        if (WrittenObjects != keys.Length)
        {
            throw new InvalidDataException($"ZsCache wrote back {WrittenObjects} of {keys.Length} probe values (failed: {FailedObjects})");
        }

        for (int i = 0; i < keys.Length; i++)
        {
            long before = Zs.GetStatistics().WritebackHits;
            if (Zs.Get(keys[i]) is not { } back || !back.AsSpan().SequenceEqual(values[i]) || Zs.GetStatistics().WritebackHits != before + 1)
            {
                throw new InvalidDataException($"ZsCache did not fault '{keys[i]}' back in from Redis");
            }

            Zs.Remove(keys[i]);
        }

        WaitForFences();
    }

    public void Dispose()
    {
        _listener.Dispose();
        _admin?.Dispose();
        _services.Dispose();
        _redis.Dispose();
    }
}
