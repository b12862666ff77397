using System.Buffers;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Caching.Distributed;
using ZsCache.Benchmarks.Caches;
using ZsCache.Benchmarks.Corpus;

namespace ZsCache.Benchmarks;

/// <summary>
/// Shared setup: one cache, filled with <see cref="BenchSettings.Entries"/> corpus entries, and a
/// fixed Zipf-sampled sequence of entry positions that every operation walks through. Each
/// invocation is one operation on the next key of the sequence, so ns/op and bytes/op are means
/// over the corpus's size mix, weighted by popularity.
/// </summary>
public abstract class CacheBenchmarkBase
{
    private const int SequenceLength = 1 << 16;
    private const int SequenceMask = SequenceLength - 1;

    protected static readonly DistributedCacheEntryOptions NoExpiration = new();

    private CacheHandle? _handle;
    private int[] _sequence = [];
    private int _next;

    /// <summary>Which cache (see <see cref="CacheHandle.KnownNames"/>).</summary>
    public abstract string Cache { get; set; }

    /// <summary>Which values (mixed, small ≤ 1 KiB, large ≥ 8 KiB).</summary>
    [ParamsSource(nameof(ValueSetNames))]
    public string Values { get; set; } = "mixed";

    public static IEnumerable<string> ValueSetNames() => BenchSettings.ValueSets;

    protected IDistributedCache Target { get; private set; } = null!;

    protected IBufferDistributedCache? BufferTarget => _handle?.Buffer;

    protected string[] Keys { get; private set; } = [];

    protected byte[][] ValueBytes { get; private set; } = [];

    /// <summary>Gets that returned a miss while measuring "hits": must stay 0, checked at cleanup.</summary>
    protected long Misses { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var corpus = new JsonCorpus();
        long[] indices = BenchSettings.SelectIndices(corpus, Values, BenchSettings.Entries);
        Keys = indices.Select(corpus.Key).ToArray();
        ValueBytes = indices.Select(corpus.Value).ToArray();
        _handle = CacheHandle.TryCreateVerified(Cache, BenchSettings.ZsPoolBytes, corpus, out string? reason)
            ?? throw new InvalidOperationException($"cache '{Cache}' not available: {reason}");
        Target = _handle.Cache;
        Fill();
        var zipf = new ZipfSampler(Keys.Length, BenchSettings.ZipfExponent, corpus.Seed);
        _sequence = zipf.Sequence(SequenceLength);
        long raw = ValueBytes.Sum(v => (long)v.Length);
        Console.WriteLine($"// setup: cache={Cache} values={Values} entries={Keys.Length} raw bytes={raw} mean={raw / Keys.Length} zipf={zipf.Exponent} redisPid={_handle.RedisPid}");
    }

    private void Fill()
    {
        // Pipelined so that filling a loopback Redis takes seconds, not minutes.
        const int Batch = 256;
        for (int start = 0; start < Keys.Length; start += Batch)
        {
            int end = Math.Min(Keys.Length, start + Batch);
            var pending = new Task[end - start];
            for (int i = start; i < end; i++)
            {
                pending[i - start] = Target.SetAsync(Keys[i], ValueBytes[i], NoExpiration);
            }

            Task.WaitAll(pending);
        }

        for (int i = 0; i < Keys.Length; i += 97)
        {
            if (Target.Get(Keys[i]) is not { } back || back.Length != ValueBytes[i].Length)
            {
                throw new InvalidOperationException($"cache '{Cache}' lost '{Keys[i]}' right after the fill");
            }
        }
    }

    /// <summary>Position of the next key in the popularity sequence.</summary>
    protected int NextPosition() => _sequence[_next++ & SequenceMask];

    [GlobalCleanup]
    public void Cleanup()
    {
        if (_handle?.ReadZsStatistics() is { } stats)
        {
            Console.WriteLine("// ZsCache statistics: " + string.Join(", ", stats.Select(kv => $"{kv.Key}={kv.Value}")));
        }

        _handle?.Dispose();
        if (Misses > 0)
        {
            // BenchmarkDotNet prints this; the figure is then not a pure hit figure.
            Console.WriteLine($"// WARNING: {Misses} misses while measuring hits on '{Cache}'");
            throw new InvalidOperationException($"{Misses} misses while measuring hits on '{Cache}'");
        }
    }
}

/// <summary>
/// Get hit and Set on every available cache (and the dictionary+LZ4 floor), same corpus, same
/// key sequence, same run.
/// </summary>
[MemoryDiagnoser]
public class CacheBenchmarks : CacheBenchmarkBase
{
    [ParamsSource(nameof(CacheNames))]
    public override string Cache { get; set; } = "memory";

    public static IEnumerable<string> CacheNames() => BenchSettings.AvailableCaches(requireBuffer: false);

    [Benchmark]
    public byte[]? Get_hit()
    {
        byte[]? value = Target.Get(Keys[NextPosition()]);
        if (value is null)
        {
            Misses++;
        }

        return value;
    }

    /// <summary>Overwrites an existing key with its own value (the size mix stays the corpus's).</summary>
    [Benchmark]
    public void Set()
    {
        int p = NextPosition();
        Target.Set(Keys[p], ValueBytes[p], NoExpiration);
    }
}

/// <summary>
/// <see cref="IBufferDistributedCache.TryGet"/> into one reused <see cref="ArrayBufferWriter{T}"/>:
/// the allocation-free read path. Only caches that implement the interface.
/// </summary>
[MemoryDiagnoser]
public class BufferCacheBenchmarks : CacheBenchmarkBase
{
    private readonly ArrayBufferWriter<byte> _writer = new(JsonCorpus.MaxValueBytes);

    [ParamsSource(nameof(CacheNames))]
    public override string Cache { get; set; } = "zs";

    public static IEnumerable<string> CacheNames() => BenchSettings.AvailableCaches(requireBuffer: true);

    [Benchmark]
    public int TryGet_hit_reused_writer()
    {
        _writer.ResetWrittenCount();
        if (!BufferTarget!.TryGet(Keys[NextPosition()], _writer))
        {
            Misses++;
        }

        return _writer.WrittenCount;
    }
}
