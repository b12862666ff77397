using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Caching.Distributed;

namespace ZsCache.Soak;

/// <summary>The shape of a load run.</summary>
internal sealed record LoadOptions
{
    /// <summary>Concurrent clients, each a task running one operation after another.</summary>
    public int Clients { get; init; } = 64;

    /// <summary>Keys in the Zipf key space.</summary>
    public int Keys { get; init; } = 3000;

    public double ZipfExponent { get; init; } = 0.99;

    /// <summary>The run stops after this long or <see cref="MaxOperations"/>, whichever comes first.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    public long MaxOperations { get; init; } = long.MaxValue;

    public double GetShare { get; init; } = 0.55;

    public double SetShare { get; init; } = 0.30;

    /// <summary>The rest of the operations are Refresh.</summary>
    public double RemoveShare { get; init; } = 0.08;

    /// <summary>Share of calls made through the synchronous API (each blocks a thread, as in an app that calls Get).</summary>
    public double SyncShare { get; init; } = 0.10;

    /// <summary>Share of Sets with an expiration (half absolute, half sliding).</summary>
    public double ExpiringShare { get; init; } = 0.20;

    public TimeSpan MinLife { get; init; } = TimeSpan.FromMinutes(2);

    public TimeSpan MaxLife { get; init; } = TimeSpan.FromMinutes(20);

    public int MaxValueSize { get; init; } = 120 * 1024;

    public int Seed { get; init; } = 1;

    /// <summary>Prefix of the key names (unique per run).</summary>
    public string KeyPrefix { get; init; } = "k";

    /// <summary>Moves a fake clock on; client 0 calls it every <see cref="AdvanceEvery"/> of its operations.</summary>
    public Action<TimeSpan>? AdvanceClock { get; init; }

    public int AdvanceEvery { get; init; } = 1000;

    public TimeSpan AdvanceStep { get; init; } = TimeSpan.FromMinutes(1);
}

/// <summary>Figures of one load run.</summary>
internal sealed record LoadReport
{
    public required TimeSpan Elapsed { get; init; }

    public required long Gets { get; init; }

    public required long Sets { get; init; }

    public required long Removes { get; init; }

    public required long Refreshes { get; init; }

    public long Operations => Gets + Sets + Removes + Refreshes;

    public required long HitsChecked { get; init; }

    public required long MissesNeverWritten { get; init; }

    public required long MissesRemoved { get; init; }

    public required long MissesExpired { get; init; }

    /// <summary>Reads that overlapped a Set and returned neither value (spurious, never stale).</summary>
    public required long MissesDuringOverwrite { get; init; }

    /// <summary>Reads that found nothing although the latest write, completed before they began, was a live Set: values lost.</summary>
    public required long MissesLost { get; init; }

    public required long Stale { get; init; }

    public required long Corrupt { get; init; }

    public required long OtherKey { get; init; }

    public required long ServedLate { get; init; }

    public required long Exceptions { get; init; }

    public required long PoolOverLimit { get; init; }

    public required long MaxPoolBytes { get; init; }

    /// <summary>The slowest single call of the run.</summary>
    public required TimeSpan SlowestCall { get; init; }

    public required long PoolLimit { get; init; }

    public required IReadOnlyList<Violation> FirstViolations { get; init; }

    /// <summary>Every check the model makes passed (misses of lost values are not violations).</summary>
    public bool Clean => Stale + Corrupt + OtherKey + ServedLate + Exceptions + PoolOverLimit == 0;

    public string Describe()
    {
        var text = new StringBuilder();
        var seconds = Math.Max(Elapsed.TotalSeconds, 0.001);
        text.AppendLine(CultureInfo.InvariantCulture, $"operations served  {Operations:N0} in {Elapsed.TotalSeconds:0.0} s ({Operations / seconds:N0}/s): get {Gets:N0}, set {Sets:N0}, remove {Removes:N0}, refresh {Refreshes:N0}");
        text.AppendLine(CultureInfo.InvariantCulture, $"reads checked      {HitsChecked:N0} hits; misses: never written {MissesNeverWritten:N0}, removed {MissesRemoved:N0}, expired {MissesExpired:N0}, during an overwrite {MissesDuringOverwrite:N0}, lost {MissesLost:N0}");
        text.AppendLine(CultureInfo.InvariantCulture, $"violations         stale {Stale}, corrupt {Corrupt}, other key {OtherKey}, served late {ServedLate}, exceptions {Exceptions}, pool over limit {PoolOverLimit}");
        text.AppendLine(CultureInfo.InvariantCulture, $"pool               max {MaxPoolBytes:N0} of {PoolLimit:N0} bytes; slowest call {SlowestCall.TotalMilliseconds:N0} ms");
        foreach (var v in FirstViolations.Take(10))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  {v.Kind}: {v.Detail}");
        }

        return text.ToString();
    }
}

/// <summary>
/// Many concurrent clients mixing Get/Set/Remove/Refresh (sync and async, array and buffer
/// forms) on a Zipf key space, every read checked against a <see cref="HistoryModel"/>, every
/// call's exception and every pool size above the limit recorded.
/// </summary>
internal sealed class LoadDriver
{
    private readonly ZsDistributedCache _cache;
    private readonly LoadOptions _options;
    private readonly ZipfKeys _keys;
    private readonly long _limit;
    private long _writeIds;
    private long _gets;
    private long _sets;
    private long _removes;
    private long _refreshes;
    private long _maxPool;
    private long _slowestTicks;

    public LoadDriver(ZsDistributedCache cache, TimeProvider time, LoadOptions options)
    {
        _cache = cache;
        _options = options;
        _keys = new ZipfKeys(options.Keys, options.ZipfExponent, options.KeyPrefix);
        _limit = cache.Options.MaxPoolBytes;
        Model = new HistoryModel(options.Keys, time);
    }

    public HistoryModel Model { get; }

    public ZipfKeys Keys => _keys;

    public long Operations => Volatile.Read(ref _gets) + Volatile.Read(ref _sets) + Volatile.Read(ref _removes) + Volatile.Read(ref _refreshes);

    /// <summary>
    /// Synchronous calls block a thread each, as an app's synchronous Get does; with dozens of
    /// clients on two cores the thread pool would add threads only slowly (about one a second)
    /// and the run would measure that instead of the cache.
    /// </summary>
    public static void EnsureThreads(int clients)
    {
        ThreadPool.GetMinThreads(out var workers, out var io);
        if (workers < clients + 16)
        {
            ThreadPool.SetMinThreads(clients + 16, io);
        }
    }

    public async Task<LoadReport> RunAsync(CancellationToken stop)
    {
        if (_options.SyncShare > 0)
        {
            EnsureThreads(_options.Clients);
        }

        var watch = Stopwatch.StartNew();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stop);
        linked.CancelAfter(_options.Duration);
        var clients = new Task[_options.Clients];
        for (var i = 0; i < clients.Length; i++)
        {
            var client = i;
            clients[i] = Task.Run(() => ClientAsync(client, linked.Token));
        }

        await Task.WhenAll(clients).ConfigureAwait(false);
        return Report(watch.Elapsed);
    }

    /// <summary>
    /// Writes every key once, in order, through the model (so the run starts with a key space
    /// larger than the pool). Returns its size, original and (at the cache's ratio) compressed.
    /// </summary>
    public async Task<(long OriginalBytes, long CompressedBytes)> PrefillAsync()
    {
        long original = 0;
        long stored = 0;
        long storedOriginal = 0;
        for (var key = 0; key < _keys.Count; key++)
        {
            var writeId = Interlocked.Increment(ref _writeIds);
            var value = TestValues.Create(key, writeId, TestValues.SizeFor(writeId, _options.MaxValueSize));
            var record = Model.BeginWrite(key, writeId, isRemove: false);
            await _cache.SetAsync(_keys.Name(key), value, new DistributedCacheEntryOptions()).ConfigureAwait(false);
            Model.EndWrite(key, record);
            original += value.Length;
            var stats = _cache.GetStatistics();
            if (stats.StoredOriginalBytes > storedOriginal)
            {
                stored = stats.StoredCompressedBytes;
                storedOriginal = stats.StoredOriginalBytes;
            }
        }

        var ratio = stored == 0 ? 1.0 : (double)storedOriginal / stored;
        return (original, (long)(original / ratio));
    }

    public LoadReport Report(TimeSpan elapsed) => new()
    {
        Elapsed = elapsed,
        Gets = Volatile.Read(ref _gets),
        Sets = Volatile.Read(ref _sets),
        Removes = Volatile.Read(ref _removes),
        Refreshes = Volatile.Read(ref _refreshes),
        HitsChecked = Model.HitsChecked,
        MissesNeverWritten = Model.Misses(MissKind.NeverWritten),
        MissesRemoved = Model.Misses(MissKind.Removed),
        MissesExpired = Model.Misses(MissKind.Expired),
        MissesDuringOverwrite = Model.Misses(MissKind.DuringOverwrite),
        MissesLost = Model.Misses(MissKind.Lost),
        Stale = Model.Violations(ViolationKind.Stale),
        Corrupt = Model.Violations(ViolationKind.Corrupt),
        OtherKey = Model.Violations(ViolationKind.OtherKey),
        ServedLate = Model.Violations(ViolationKind.ServedLate),
        Exceptions = Model.Violations(ViolationKind.Exception),
        PoolOverLimit = Model.Violations(ViolationKind.PoolOverLimit),
        MaxPoolBytes = Volatile.Read(ref _maxPool),
        SlowestCall = Stopwatch.GetElapsedTime(0, Volatile.Read(ref _slowestTicks)),
        PoolLimit = _limit,
        FirstViolations = Model.FirstViolations,
    };

    private async Task ClientAsync(int client, CancellationToken stop)
    {
        var random = new Random(HashCode.Combine(_options.Seed, client));
        var buffer = new ArrayBufferWriter<byte>();
        long done = 0;
        while (!stop.IsCancellationRequested && Operations < _options.MaxOperations)
        {
            var key = _keys.Next(random);
            var roll = random.NextDouble();
            var sync = random.NextDouble() < _options.SyncShare;
            var started = Stopwatch.GetTimestamp();
            try
            {
                if (roll < _options.GetShare)
                {
                    await GetAsync(key, sync, random.Next(4) == 0, buffer).ConfigureAwait(false);
                    Interlocked.Increment(ref _gets);
                }
                else if (roll < _options.GetShare + _options.SetShare)
                {
                    await SetAsync(key, sync, random).ConfigureAwait(false);
                    Interlocked.Increment(ref _sets);
                }
                else if (roll < _options.GetShare + _options.SetShare + _options.RemoveShare)
                {
                    await RemoveAsync(key, sync).ConfigureAwait(false);
                    Interlocked.Increment(ref _removes);
                }
                else
                {
                    if (sync)
                    {
                        _cache.Refresh(_keys.Name(key));
                    }
                    else
                    {
                        await _cache.RefreshAsync(_keys.Name(key)).ConfigureAwait(false);
                    }

                    Interlocked.Increment(ref _refreshes);
                }
            }
#pragma warning disable CA1031 // Every exception out of the cache is a finding, recorded and counted.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Model.Report(ViolationKind.Exception, $"key {key}: {ex.GetType().Name}: {ex.Message}{Environment.NewLine}{ex.StackTrace}");
            }

            InterlockedMax(ref _slowestTicks, Stopwatch.GetTimestamp() - started);
            var pool = _cache.Pool.TotalBytes;
            InterlockedMax(ref _maxPool, pool);
            if (pool > _limit)
            {
                Model.Report(ViolationKind.PoolOverLimit, $"pool {pool} bytes > limit {_limit}");
            }

            if (client == 0 && _options.AdvanceClock is { } advance && ++done % _options.AdvanceEvery == 0)
            {
                advance(_options.AdvanceStep);
            }
        }
    }

    private async Task GetAsync(int key, bool sync, bool bufferForm, ArrayBufferWriter<byte> buffer)
    {
        var name = _keys.Name(key);
        var token = Model.BeginRead(key);
        bool hit;
        ReadOnlyMemory<byte> value;
        try
        {
            if (bufferForm)
            {
                buffer.ResetWrittenCount();
                hit = sync ? _cache.TryGet(name, buffer) : await _cache.TryGetAsync(name, buffer).ConfigureAwait(false);
                value = buffer.WrittenMemory;
                if (!hit && buffer.WrittenCount != 0)
                {
                    Model.Report(ViolationKind.Corrupt, $"key {key}: a miss wrote {buffer.WrittenCount} bytes to the destination");
                }
            }
            else
            {
                var bytes = sync ? _cache.Get(name) : await _cache.GetAsync(name).ConfigureAwait(false);
                hit = bytes is not null;
                value = bytes;
            }
        }
        catch
        {
            Model.AbandonRead(token);
            throw;
        }

        Model.EndRead(token, value.Span, hit);
    }

    private async Task SetAsync(int key, bool sync, Random random)
    {
        var name = _keys.Name(key);
        var writeId = Interlocked.Increment(ref _writeIds);
        var value = TestValues.Create(key, writeId, TestValues.SizeFor(writeId, _options.MaxValueSize));
        var entry = new DistributedCacheEntryOptions();
        long absolute = 0, sliding = 0;
        if (random.NextDouble() < _options.ExpiringShare)
        {
            var life = TimeSpan.FromTicks(_options.MinLife.Ticks + (long)(random.NextDouble() * (_options.MaxLife - _options.MinLife).Ticks));
            if (random.Next(2) == 0)
            {
                entry.AbsoluteExpirationRelativeToNow = life;
                absolute = life.Ticks;
            }
            else
            {
                entry.SlidingExpiration = life;
                sliding = life.Ticks;
            }
        }

        var record = Model.BeginWrite(key, writeId, isRemove: false, absolute, sliding);
        switch (random.Next(8))
        {
            case 0:
                // Multi-segment buffer form.
                var sequence = Segments.Split(value, 3);
                if (sync)
                {
                    _cache.Set(name, sequence, entry);
                }
                else
                {
                    await _cache.SetAsync(name, sequence, entry).ConfigureAwait(false);
                }

                break;
            default:
                if (sync)
                {
                    _cache.Set(name, value, entry);
                }
                else
                {
                    await _cache.SetAsync(name, value, entry).ConfigureAwait(false);
                }

                break;
        }

        Model.EndWrite(key, record);
    }

    private async Task RemoveAsync(int key, bool sync)
    {
        var record = Model.BeginWrite(key, Interlocked.Increment(ref _writeIds), isRemove: true);
        if (sync)
        {
            _cache.Remove(_keys.Name(key));
        }
        else
        {
            await _cache.RemoveAsync(_keys.Name(key)).ConfigureAwait(false);
        }

        Model.EndWrite(key, record);
    }

    private static void InterlockedMax(ref long target, long value)
    {
        var current = Volatile.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    /// <summary>Splits a value into a multi-segment sequence.</summary>
    private static class Segments
    {
        public static ReadOnlySequence<byte> Split(byte[] value, int parts)
        {
            if (value.Length < parts)
            {
                return new ReadOnlySequence<byte>(value);
            }

            var size = value.Length / parts;
            var first = new Segment(value.AsMemory(0, size), 0);
            var last = first;
            for (var i = 1; i < parts; i++)
            {
                var end = i == parts - 1 ? value.Length : (i + 1) * size;
                last = last.Append(value.AsMemory(i * size, end - (i * size)));
            }

            return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
        }

        private sealed class Segment : ReadOnlySequenceSegment<byte>
        {
            public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
            {
                Memory = memory;
                RunningIndex = runningIndex;
            }

            public Segment Append(ReadOnlyMemory<byte> memory)
            {
                var next = new Segment(memory, RunningIndex + Memory.Length);
                Next = next;
                return next;
            }
        }
    }
}
