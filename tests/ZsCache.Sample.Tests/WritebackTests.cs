using System.Text.Json;
using ZsCache.Sample.Web.Catalog;

namespace ZsCache.Sample.Tests;

/// <summary>The sample as a new user runs it: no Redis configured, so an embedded Garnet on a free port.</summary>
public sealed class WritebackTests
{
    [Fact]
    public async Task Without_a_Redis_the_sample_writes_back_to_an_embedded_Garnet_and_faults_values_back_in()
    {
        await using var app = new SampleFactory(("Sample:Writeback", "auto"), ("ZsCache:MaxPoolBytes", "1048576"));
        using var client = app.CreateClient();
        using (var first = JsonDocument.Parse(await client.GetStringAsync(new Uri("/zscache/stats", UriKind.Relative))))
        {
            var kind = first.RootElement.GetProperty("writeback").GetProperty("kind").GetString();
            Assert.Equal("embedded-garnet", kind);
            Assert.StartsWith("127.0.0.1:", first.RootElement.GetProperty("writeback").GetProperty("endpoint").GetString(), StringComparison.Ordinal);
        }

        const int Products = 1500;
        for (var id = 1; id <= Products; id++)
        {
            (await client.GetAsync(new Uri($"/products/{id}", UriKind.Relative))).Dispose();
        }

        await StatsTests.WaitUntilAsync(() => app.Cache.GetStatistics().EntriesWrittenBack > 0);
        var statistics = app.Cache.GetStatistics();
        Assert.True(statistics.EntriesWrittenBack > 0, "a 1 MiB pool cannot hold 1,500 products: the cold ones go to Garnet");
        Assert.InRange(statistics.PoolBytes, 1, 1048576);

        // Every product reads back as a cache hit: from the pool, or faulted in from Garnet.
        var hits = 0;
        for (var id = 1; id <= Products; id++)
        {
            using var response = await client.GetAsync(new Uri($"/products/{id}", UriKind.Relative));
            hits += response.Headers.GetValues(CatalogEndpoints.CacheHeader).Single() == "hit" ? 1 : 0;
        }

        using var json = JsonDocument.Parse(await client.GetStringAsync(new Uri("/zscache/stats", UriKind.Relative)));
        var writebacks = json.RootElement.GetProperty("writebacks");
        Assert.True(writebacks.GetProperty("objects").GetInt64() > 0);
        Assert.True(writebacks.GetProperty("bytes").GetInt64() > 0);
        Assert.True(writebacks.GetProperty("faultIns").GetInt64() > 0);
        Assert.True(hits > Products * 9 / 10, $"{hits} of {Products} were hits");
    }
}
