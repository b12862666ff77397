using System.Reflection;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using ZsCache.Benchmarks.Corpus;
using ZsCache.Redis;

namespace ZsCache.Benchmarks.Caches;

/// <summary>
/// One cache under test, built the way an app builds it (through DI, resolved as
/// <see cref="IDistributedCache"/>), with whatever it needs (a redis-server) owned by the handle.
/// </summary>
public sealed class CacheHandle : IDisposable
{
    /// <summary>Names accepted by <c>--caches</c>, in the order reports list them.</summary>
    public static readonly string[] KnownNames = ["baseline", "zs", "zs-redis", "memory", "redis", "hybrid", "hybrid-zs", "hybrid-zs-l1", "hybrid-redis"];

    /// <summary>Default set: everything but zs-redis (ZsCache with the Redis writeback tier plugged in).</summary>
    public const string DefaultNames = "baseline,zs,memory,redis";

    private readonly ServiceProvider? _services;
    private readonly RedisServerProcess? _redis;

    private CacheHandle(string name, IDistributedCache cache, ServiceProvider? services, RedisServerProcess? redis)
    {
        Name = name;
        Cache = cache;
        _services = services;
        _redis = redis;
    }

    public string Name { get; }

    public IDistributedCache Cache { get; }

    /// <summary>The same cache as <see cref="IBufferDistributedCache"/>, when it is one.</summary>
    public IBufferDistributedCache? Buffer => Cache as IBufferDistributedCache;

    public int? RedisPid => _redis?.Pid;

    /// <summary>A human description of what the name stands for.</summary>
    public static string Describe(string name) => name switch
    {
        "baseline" => "Dictionary<string, byte[]> of LZ4 blocks + new array + LZ4Codec.Decode (the issue's floor)",
        "zs" => "ZsDistributedCache (AddZsCache, no writeback tier)",
        "zs-redis" => "ZsDistributedCache + AddRedisWriteback (own redis-server)",
        "memory" => "MemoryDistributedCache (AddDistributedMemoryCache, SizeLimit = null)",
        "redis" => "RedisCache (AddStackExchangeRedisCache, own redis-server on loopback)",
        "hybrid" => "HybridCache alone: its in-memory L1, no distributed tier",
        "hybrid-zs" => "HybridCache, L1 off (DisableLocalCache), ZsCache as L2: what the README recommends",
        "hybrid-zs-l1" => "HybridCache with its default L1 in front of ZsCache as L2",
        "hybrid-redis" => "HybridCache with its default L1 in front of RedisCache (own redis-server): the usual deployment",
        _ => name,
    };

    /// <summary>
    /// Builds the named cache, or returns null with the reason it is not available here
    /// (redis-server missing, ZsCache still pending, construction threw).
    /// </summary>
    public static CacheHandle? TryCreate(string name, long zsPoolBytes, out string? reason)
    {
        RedisServerProcess? redis = null;
        ServiceProvider? services = null;
        try
        {
            var collection = new ServiceCollection();
            collection.AddLogging();
            string tierName = name.StartsWith("hybrid", StringComparison.Ordinal) ? HybridTier(name) : name;
            switch (tierName)
            {
                case "baseline":
                    reason = null;
                    return new CacheHandle(name, new Lz4DictionaryBaseline(), null, null);
                case "none":
                    break;
                case "memory":
                    // MemoryDistributedCacheOptions defaults SizeLimit to 200 MB; the workload wants every entry kept.
                    collection.AddDistributedMemoryCache(o => o.SizeLimit = null);
                    break;
                case "redis":
                    redis = RedisServerProcess.TryStart(out reason);
                    if (redis is null)
                    {
                        return null;
                    }

                    collection.AddStackExchangeRedisCache(o =>
                    {
                        o.Configuration = redis.Configuration;
                        o.InstanceName = "bench:";
                    });
                    break;
                case "zs":
                case "zs-redis":
                    var builder = collection.AddZsCache(o =>
                    {
                        o.MaxPoolBytes = zsPoolBytes;
                        o.InstanceName = "bench:";
                    });
                    if (name == "zs-redis")
                    {
                        redis = RedisServerProcess.TryStart(out reason);
                        if (redis is null)
                        {
                            return null;
                        }

                        string configuration = redis.Configuration;
                        builder.AddRedisWriteback(r => r.Configuration = configuration);
                    }

                    break;
                default:
                    reason = $"unknown cache '{name}' (known: {string.Join(", ", KnownNames)})";
                    return null;
            }

            IDistributedCache cache;
            if (tierName == name)
            {
                services = collection.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
                cache = services.GetRequiredService<IDistributedCache>();
            }
            else
            {
                collection.AddHybridCache(o => o.MaximumPayloadBytes = 1024 * 1024);
                services = collection.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
                var flags = name == "hybrid-zs" ? HybridCacheEntryFlags.DisableLocalCache : HybridCacheEntryFlags.None;
                cache = new HybridCacheAdapter(services.GetRequiredService<HybridCache>(), flags);
            }

            var handle = new CacheHandle(name, cache, services, redis);
            reason = null;
            return handle;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            services?.Dispose();
            redis?.Dispose();
            reason = Unwrap(e);
            return null;
        }
    }

    /// <summary>
    /// Builds the cache and proves it round-trips a few corpus values (via Get and, where offered,
    /// TryGet) before anyone measures it. A cache that throws or returns wrong bytes is "not available".
    /// </summary>
    public static CacheHandle? TryCreateVerified(string name, long zsPoolBytes, JsonCorpus corpus, out string? reason)
    {
        var handle = TryCreate(name, zsPoolBytes, out reason);
        if (handle is null)
        {
            return null;
        }

        try
        {
            var options = new DistributedCacheEntryOptions();
            for (long i = 0; i < 8; i++)
            {
                string key = "probe:" + corpus.Key(i);
                byte[] value = corpus.Value(i);
                handle.Cache.Set(key, value, options);
                byte[]? back = handle.Cache.Get(key);
                if (back is null || !back.AsSpan().SequenceEqual(value))
                {
                    throw new InvalidDataException($"Get of '{key}' did not return the bytes just set ({(back is null ? "null" : back.Length + " bytes")}, expected {value.Length})");
                }

                if (handle.Buffer is { } buffer)
                {
                    var writer = new System.Buffers.ArrayBufferWriter<byte>();
                    if (!buffer.TryGet(key, writer) || !writer.WrittenSpan.SequenceEqual(value))
                    {
                        throw new InvalidDataException($"TryGet of '{key}' did not write the bytes just set");
                    }
                }

                handle.Cache.Remove(key);
                if (handle.Cache.Get(key) is not null)
                {
                    throw new InvalidDataException($"'{key}' still readable after Remove");
                }
            }

            return handle;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            handle.Dispose();
            reason = Unwrap(e);
            return null;
        }
    }

    /// <summary>
    /// <c>ZsDistributedCache.GetStatistics()</c>'s public numeric properties, read by reflection so
    /// that this harness builds before the method exists; null when there is no such method.
    /// </summary>
    public IReadOnlyDictionary<string, double>? ReadZsStatistics()
    {
        if ((Cache as ZsDistributedCache ?? _services?.GetService<IDistributedCache>() as ZsDistributedCache) is not { } zs)
        {
            return null;
        }

        MethodInfo? method = zs.GetType().GetMethod("GetStatistics", BindingFlags.Public | BindingFlags.Instance, Type.EmptyTypes);
        if (method is null)
        {
            return null;
        }

        object? stats;
        try
        {
            stats = method.Invoke(zs, null);
        }
        catch (TargetInvocationException)
        {
            return null;
        }

        if (stats is null)
        {
            return null;
        }

        var result = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (PropertyInfo p in stats.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (p.GetIndexParameters().Length == 0 && p.GetValue(stats) is { } v && v is IConvertible and not string and not bool and not Enum)
            {
                result[p.Name] = Convert.ToDouble(v, System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return result;
    }

    /// <summary>What a HybridCache case puts behind HybridCache as its distributed tier.</summary>
    private static string HybridTier(string name) => name switch
    {
        "hybrid" => "none",
        "hybrid-zs" or "hybrid-zs-l1" => "zs",
        "hybrid-redis" => "redis",
        _ => "unknown",
    };

    private static string Unwrap(Exception e)
    {
        while (e is TargetInvocationException or AggregateException && e.InnerException is not null)
        {
            e = e.InnerException!;
        }

        return $"{e.GetType().Name}: {e.Message}";
    }

    public void Dispose()
    {
        if (_services is null)
        {
            (Cache as IDisposable)?.Dispose();
        }

        _services?.Dispose();
        _redis?.Dispose();
    }
}
