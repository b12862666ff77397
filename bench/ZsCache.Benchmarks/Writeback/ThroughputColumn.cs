using System.Collections.Concurrent;
using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using ZsCache.Compression;

namespace ZsCache.Benchmarks.Writeback;

/// <summary>
/// Throughput derived from the Mean (time per object: the benchmarks divide by
/// <see cref="WritebackBenchmarks.Objects"/>): objects/s; MB/s of values (original bytes, 10^6 B);
/// MB/s sent (what the cache stores in Redis: ZsCache the LZ4 data, RedisCache the original bytes;
/// keys, ZsCache's 40-byte header and RedisCache's hash fields not counted). Byte counts are
/// recomputed here from the corpus with ZsCache's own codec; the benchmark process prints the
/// compressed bytes the cache's <c>zscache.writeback.bytes</c> counter saw, to check them.
/// </summary>
public sealed class ThroughputColumn(ThroughputColumn.Kind kind) : IColumn
{
    public enum Kind
    {
        Objects,
        ValueBytes,
        SentBytes,
    }

    private static readonly ConcurrentDictionary<string, (double Raw, double Compressed)> BytesPerObject = new(StringComparer.Ordinal);

    public string Id => "Throughput." + kind;

    public string ColumnName => kind switch
    {
        Kind.Objects => "objects/s",
        Kind.ValueBytes => "value MB/s",
        _ => "sent MB/s",
    };

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => (int)kind;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => kind switch
    {
        Kind.Objects => "Objects written per second (1 s / Mean)",
        Kind.ValueBytes => "Original value bytes per second, 10^6 B",
        _ => "Bytes of data stored in Redis per second, 10^6 B (ZsCache: LZ4 data; RedisCache: original bytes)",
    };

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        if (summary[benchmarkCase]?.ResultStatistics?.Mean is not double nanoseconds || nanoseconds <= 0)
        {
            return "-";
        }

        double objectsPerSecond = 1e9 / nanoseconds;
        if (kind == Kind.Objects)
        {
            return objectsPerSecond.ToString("N0", CultureInfo.InvariantCulture);
        }

        string valueSet = benchmarkCase.Parameters["Values"] as string ?? "mixed";
        var (raw, compressed) = BytesPerObject.GetOrAdd(valueSet, Measure);
        bool zs = benchmarkCase.Descriptor.WorkloadMethod.Name.StartsWith("ZsCache", StringComparison.Ordinal);
        double bytes = kind == Kind.ValueBytes || !zs ? raw : compressed;
        return (objectsPerSecond * bytes / 1e6).ToString("N1", CultureInfo.InvariantCulture);
    }

    private static (double Raw, double Compressed) Measure(string valueSet)
    {
        var (_, values) = WritebackRig.Select(valueSet, WritebackBenchmarks.Objects);
        long raw = 0;
        long compressed = 0;
        foreach (byte[] value in values)
        {
            var buffer = new byte[ValueCodec.MaxEncodedLength(value.Length)];
            raw += value.Length;
            compressed += ValueCodec.Encode(value, buffer, ZsCompression.Lz4).Length;
        }

        return ((double)raw / values.Length, (double)compressed / values.Length);
    }
}
