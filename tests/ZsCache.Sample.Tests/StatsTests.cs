using System.Net;
using System.Text.Json;

namespace ZsCache.Sample.Tests;

public sealed class StatsTests
{
    [Fact]
    public async Task Stats_json_has_the_documented_shape()
    {
        await using var app = new SampleFactory(("ZsCache:MaxPoolBytes", "4194304"));
        using var client = app.CreateClient();
        for (var id = 1; id <= 50; id++)
        {
            (await client.GetAsync(new Uri($"/products/{id}", UriKind.Relative))).Dispose();
        }

        using var response = await client.GetAsync(new Uri("/zscache/stats", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = json.RootElement;

        Assert.Equal(JsonValueKind.String, root.GetProperty("time").ValueKind);
        Assert.Equal("none", root.GetProperty("writeback").GetProperty("kind").GetString());

        var pool = root.GetProperty("pool");
        Assert.Equal(4194304, pool.GetProperty("limit").GetInt64());
        Assert.InRange(pool.GetProperty("bytes").GetInt64(), 1, 4194304);
        Assert.True(pool.GetProperty("pages").GetInt64() > 0);
        Assert.True(pool.GetProperty("storedOriginalBytes").GetInt64() > pool.GetProperty("storedCompressedBytes").GetInt64());
        Assert.True(pool.GetProperty("compressionRatio").GetDouble() > 1.2, "catalog JSON compresses");
        Assert.True(pool.GetProperty("indexBytes").GetInt64() > 0);

        Assert.Equal(50, root.GetProperty("entries").GetProperty("pool").GetInt64());
        Assert.Equal(0, root.GetProperty("entries").GetProperty("writeback").GetInt64());

        var requests = root.GetProperty("requests");
        Assert.Equal(50, requests.GetProperty("misses").GetInt64());
        Assert.Equal(0, requests.GetProperty("poolHits").GetInt64());
        Assert.Equal(0, requests.GetProperty("writebackHits").GetInt64());

        foreach (var name in new[] { "objects", "failed", "bytes", "faultIns", "refaults" })
        {
            Assert.Equal(0, root.GetProperty("writebacks").GetProperty(name).GetInt64());
        }

        foreach (var name in new[] { "shrink", "expired", "capacity" })
        {
            Assert.Equal(JsonValueKind.Number, root.GetProperty("evictions").GetProperty(name).ValueKind);
        }

        Assert.Equal(JsonValueKind.Number, root.GetProperty("compactionMoved").ValueKind);
        Assert.Equal(JsonValueKind.Number, root.GetProperty("pendingFences").ValueKind);

        var classes = root.GetProperty("classes").EnumerateArray().ToList();
        Assert.NotEmpty(classes);
        foreach (var c in classes)
        {
            foreach (var name in new[] { "class", "size", "objectsAllocated", "objectsUsed", "zspages", "pagesPerZspage", "pagesUsed", "fullness", "freeable" })
            {
                Assert.Equal(JsonValueKind.Number, c.GetProperty(name).ValueKind);
            }
        }

        // The 50 products landed in several size classes; the rows add up to the pool.
        var used = classes.Where(c => c.GetProperty("zspages").GetInt64() > 0).ToList();
        Assert.True(used.Count >= 3, $"values of varied sizes use several classes; {used.Count} do");
        Assert.Equal(50, used.Sum(c => c.GetProperty("objectsUsed").GetInt64()));
        Assert.Equal(pool.GetProperty("pages").GetInt64(), classes.Sum(c => c.GetProperty("pagesUsed").GetInt64()));
        Assert.All(used, c => Assert.InRange(c.GetProperty("fullness").GetDouble(), 0.0, 1.0));
    }

    [Fact]
    public async Task Stats_page_is_plain_html_that_reads_the_json()
    {
        await using var app = new SampleFactory();
        using var client = app.CreateClient();
        using var response = await client.GetAsync(new Uri("/zscache", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("<table id=\"classes\">", html, StringComparison.Ordinal);
        Assert.Contains("fetch(\"/zscache/stats\"", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_pool_only_sample_stays_under_its_limit_and_counts_what_it_drops()
    {
        await using var app = new SampleFactory(("ZsCache:MaxPoolBytes", "1048576"));
        using var client = app.CreateClient();
        for (var id = 1; id <= 1500; id++)
        {
            (await client.GetAsync(new Uri($"/products/{id}", UriKind.Relative))).Dispose();
        }

        await WaitUntilAsync(() => app.Cache.GetStatistics().PoolBytes <= 1048576 / 10 * 9);
        using var json = JsonDocument.Parse(await client.GetStringAsync(new Uri("/zscache/stats", UriKind.Relative)));
        var root = json.RootElement;
        Assert.InRange(root.GetProperty("pool").GetProperty("bytes").GetInt64(), 1, 1048576);
        var dropped = root.GetProperty("evictions").GetProperty("shrink").GetInt64() + root.GetProperty("evictions").GetProperty("capacity").GetInt64();
        Assert.True(dropped > 0, "without a writeback tier, cold values are dropped and counted");
        Assert.Equal(0, root.GetProperty("writebacks").GetProperty("objects").GetInt64());
    }

    internal static async Task WaitUntilAsync(Func<bool> condition, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return; // the caller's assertions say what was wrong
            }

            await Task.Delay(50);
        }
    }
}
