using System.Diagnostics.Metrics;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Time.Testing;
using ZsCache.Writeback;

namespace ZsCache.Tests.Cache;

/// <summary>Every instrument CONTRACT.md names: its kind, unit and tags, and that it counts what it says.</summary>
public class MetricsTests
{
    private static readonly DistributedCacheEntryOptions NoExpiry = new();

    /// <summary>Records every measurement of one cache's meter.</summary>
    private sealed class Recorder : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly List<(string Name, long Value, Dictionary<string, string?> Tags)> _measurements = [];

        public Recorder(ZsDistributedCache cache)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter == cache.Meter)
                {
                    Instruments.Add(instrument);
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            {
                var map = new Dictionary<string, string?>(StringComparer.Ordinal);
                foreach (var tag in tags)
                {
                    map[tag.Key] = tag.Value?.ToString();
                }

                lock (_measurements)
                {
                    _measurements.Add((instrument.Name, value, map));
                }
            });
            _listener.Start();
        }

        public List<Instrument> Instruments { get; } = [];

        /// <summary>The sum of a counter's measurements, optionally of one tag value.</summary>
        public long Sum(string name, string? tag = null, string? value = null)
        {
            lock (_measurements)
            {
                return _measurements.Where(m => m.Name == name && (tag is null || (m.Tags.TryGetValue(tag, out var v) && v == value))).Sum(m => m.Value);
            }
        }

        /// <summary>A gauge's current value (of one tag value when given).</summary>
        public long Observe(string name, string? tag = null, string? value = null)
        {
            lock (_measurements)
            {
                _measurements.Clear();
            }

            _listener.RecordObservableInstruments();
            return Sum(name, tag, value);
        }

        public void Dispose() => _listener.Dispose();
    }

    [Fact]
    public void The_meter_publishes_exactly_the_contract_instruments_with_their_kinds_and_units()
    {
        using var cache = CacheFactory.Create();
        using var recorder = new Recorder(cache);
        var expected = new (string Name, Type Kind, string Unit)[]
        {
            ("zscache.requests", typeof(Counter<long>), "{request}"),
            ("zscache.writeback.objects", typeof(Counter<long>), "{object}"),
            ("zscache.writeback.bytes", typeof(Counter<long>), "By"),
            ("zscache.evictions", typeof(Counter<long>), "{object}"),
            ("zscache.pool.size", typeof(ObservableGauge<long>), "By"),
            ("zscache.pool.limit", typeof(ObservableGauge<long>), "By"),
            ("zscache.pool.stored", typeof(ObservableGauge<long>), "By"),
            ("zscache.entries", typeof(ObservableGauge<long>), "{entry}"),
            ("zscache.compaction.moved", typeof(Counter<long>), "{object}"),
            ("zscache.refaults", typeof(Counter<long>), "{object}"),

            // Added since CONTRACT.md was written (add, never rename).
            ("zscache.invalidations", typeof(Counter<long>), "{object}"),
        };

        Assert.Equal("ZsCache", cache.Meter.Name);
        Assert.Equal(
            expected.Select(e => $"{e.Name} {e.Kind.Name} {e.Unit}").Order(StringComparer.Ordinal),
            recorder.Instruments.Select(i => $"{i.Name} {i.GetType().Name} {i.Unit}").Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Pool_gauges_report_the_pool_its_limit_stored_bytes_and_entries_per_tier()
    {
        var tier = new InMemoryTier();
        using var cache = CacheFactory.Create(configure: o => o.WritebackPolicy = ZsWritebackPolicy.ZspageLru, tier: tier);
        using var recorder = new Recorder(cache);
        for (var i = 0; i < 300; i++)
        {
            await cache.SetAsync("k" + i, CacheFactory.JsonLike(i, 200 + (i * 53 % 4000)), NoExpiry);
        }

        await cache.ReclaimAsync(2);
        var stats = cache.GetStatistics();
        Assert.True(stats.EntriesWrittenBack > 0 && stats.EntriesInPool > 0, "entries in both tiers");

        Assert.Equal(cache.Pool.TotalBytes, recorder.Observe("zscache.pool.size"));
        Assert.Equal(cache.Options.MaxPoolBytes, recorder.Observe("zscache.pool.limit"));
        Assert.Equal(stats.StoredCompressedBytes, recorder.Observe("zscache.pool.stored", "kind", "compressed"));
        Assert.Equal(stats.StoredOriginalBytes, recorder.Observe("zscache.pool.stored", "kind", "original"));
        Assert.True(stats.StoredOriginalBytes > stats.StoredCompressedBytes, "JSON compresses");
        Assert.Equal(stats.EntriesInPool, recorder.Observe("zscache.entries", "tier", "pool"));
        Assert.Equal(stats.EntriesWrittenBack, recorder.Observe("zscache.entries", "tier", "writeback"));
    }

    [Fact]
    public async Task Writeback_counts_objects_by_result_and_bytes_written()
    {
        var tier = new InMemoryTier();
        using var cache = CacheFactory.Create(configure: o => o.WritebackPolicy = ZsWritebackPolicy.ZspageLru, tier: tier);
        using var recorder = new Recorder(cache);
        for (var i = 0; i < 20; i++)
        {
            await cache.SetAsync("k" + i, CacheFactory.JsonLike(i, 1500), NoExpiry);
        }

        tier.Refuse.Add("k3");
        await cache.ReclaimAsync(100);

        var written = tier.Contents.Values.Where(c => !c.IsFence).ToArray();
        Assert.Equal(19, written.Length);
        Assert.Equal(19, recorder.Sum("zscache.writeback.objects", "result", "ok"));
        Assert.True(recorder.Sum("zscache.writeback.objects", "result", "failed") >= 1, "the refused object counts as failed");
        Assert.Equal(written.Sum(c => (long)c.Value!.Data.Length), recorder.Sum("zscache.writeback.bytes"));
    }

    [Fact]
    public async Task Requests_count_writeback_hits_and_refaults()
    {
        var tier = new InMemoryTier();
        using var cache = CacheFactory.Create(configure: o => o.WritebackPolicy = ZsWritebackPolicy.ZspageLru, tier: tier);
        using var recorder = new Recorder(cache);
        await cache.SetAsync("k", CacheFactory.JsonLike(1, 900), NoExpiry);
        await cache.ReclaimAsync(100);
        Assert.Equal(0, cache.GetStatistics().EntriesInPool);

        Assert.NotNull(await cache.GetAsync("k"));
        Assert.NotNull(await cache.GetAsync("k"));
        Assert.Equal(1, recorder.Sum("zscache.requests", "tier", "writeback"));
        Assert.Equal(1, recorder.Sum("zscache.requests", "tier", "pool"));
        Assert.Equal(2, recorder.Sum("zscache.requests", "result", "hit"));

        // Faulted in right after its writeback: a refault.
        Assert.Equal(1, recorder.Sum("zscache.refaults"));
    }

    [Fact]
    public async Task Evictions_are_counted_by_reason()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

        // expired: the periodic scan frees an entry past its deadline.
        using (var cache = CacheFactory.Create(time))
        using (var recorder = new Recorder(cache))
        {
            await cache.SetAsync("soon", [1, 2, 3], new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(1) });
            time.Advance(TimeSpan.FromMinutes(2)); // the scan timer runs on the cache's clock, and may free it here
            cache.ScanExpired();
            Assert.Equal(0, cache.GetStatistics().EntriesInPool);
            Assert.Equal(1, recorder.Sum("zscache.evictions", "reason", "expired"));
        }

        // shrink: without a tier, reclaim drops the entries of the zspages it frees.
        using (var cache = CacheFactory.Create(time))
        using (var recorder = new Recorder(cache))
        {
            for (var i = 0; i < 50; i++)
            {
                await cache.SetAsync("k" + i, CacheFactory.JsonLike(i, 2000), NoExpiry);
            }

            await cache.ReclaimAsync(100);
            Assert.Equal(0, cache.GetStatistics().EntriesInPool);
            Assert.Equal(50, recorder.Sum("zscache.evictions", "reason", "shrink"));
        }

        // capacity: a value the pool can never hold, and no tier to take it.
        using (var cache = CacheFactory.Create(time, o => o.MaxPoolBytes = ZsCacheOptions.MinPoolBytes))
        using (var recorder = new Recorder(cache))
        {
            var huge = new byte[2 * (int)ZsCacheOptions.MinPoolBytes];
            new Random(3).NextBytes(huge);
            await cache.SetAsync("huge", huge, NoExpiry);
            Assert.Null(await cache.GetAsync("huge"));
            Assert.Equal(1, recorder.Sum("zscache.evictions", "reason", "capacity"));
        }
    }

    [Fact]
    public async Task Compaction_counts_the_objects_it_moves()
    {
        using var cache = CacheFactory.Create();
        using var recorder = new Recorder(cache);
        for (var i = 0; i < 2000; i++)
        {
            await cache.SetAsync("k" + i, CacheFactory.JsonLike(i, 700), NoExpiry);
        }

        // Every other entry removed: half of every zspage is a hole.
        for (var i = 0; i < 2000; i += 2)
        {
            await cache.RemoveAsync("k" + i);
        }

        var before = cache.Pool.TotalBytes;
        await cache.ShrinkAsync();
        Assert.True(cache.Pool.TotalBytes < before, "compaction gave zspages back");
        Assert.True(recorder.Sum("zscache.compaction.moved") > 0);
        for (var i = 1; i < 2000; i += 2)
        {
            Assert.Equal(CacheFactory.JsonLike(i, 700), await cache.GetAsync("k" + i));
        }
    }
}
