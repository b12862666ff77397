using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using ZsCache.Writeback;

namespace ZsCache.Tests.Cache;

internal static class CacheFactory
{
    public static ZsDistributedCache Create(FakeTimeProvider? time = null, Action<ZsCacheOptions>? configure = null, IZsWritebackTier? tier = null)
    {
        var options = new ZsCacheOptions { MaxPoolBytes = 8L * 1024 * 1024 };
        configure?.Invoke(options);
        return new ZsDistributedCache(Options.Create(options), tier, time ?? new FakeTimeProvider(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture)));
    }

    /// <summary>A JSON-like value of about <paramref name="size"/> bytes that LZ4 compresses, unique per seed.</summary>
    public static byte[] JsonLike(int seed, int size)
    {
        var random = new Random(seed);
        var builder = new System.Text.StringBuilder(size + 64);
        builder.Append("{\"id\":").Append(seed).Append(",\"items\":[");
        while (builder.Length < size)
        {
            builder.Append("{\"sku\":\"SKU-").Append(random.Next(100000)).Append("\",\"price\":").Append(random.Next(10000) / 100.0)
                .Append(",\"name\":\"Product ").Append(random.Next(1000)).Append("\",\"inStock\":true},");
        }

        var bytes = System.Text.Encoding.UTF8.GetBytes(builder.ToString());
        return bytes.AsSpan(0, Math.Min(size, bytes.Length)).ToArray();
    }
}
