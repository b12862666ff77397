using System.Net.Http.Json;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ZsCache.Sample.Web.Catalog;
using ZsCache.Sample.Web.Reviews;

namespace ZsCache.Sample.Tests;

public sealed class HybridCacheTests : IClassFixture<DefaultSampleFactory>
{
    private readonly SampleFactory _app;

    public HybridCacheTests(DefaultSampleFactory app) => _app = app;

    [Fact]
    public void HybridCache_keeps_no_local_copy_by_default()
    {
        var options = _app.Services.GetRequiredService<IOptions<HybridCacheOptions>>().Value;
        Assert.NotNull(options.DefaultEntryOptions);
        Assert.Equal(HybridCacheEntryFlags.DisableLocalCache, options.DefaultEntryOptions.Flags & HybridCacheEntryFlags.DisableLocalCache);
    }

    [Fact]
    public async Task Reviews_round_trip_through_HybridCache_with_ZsCache_as_its_distributed_tier()
    {
        var store = _app.Services.GetRequiredService<CatalogStore>();
        using var client = _app.CreateClient();
        var loadsBefore = store.ReviewLoads;

        var first = await client.GetFromJsonAsync<List<Review>>(new Uri("/products/41/reviews", UriKind.Relative));
        var hitsBefore = _app.Cache.GetStatistics().PoolHits;
        var second = await client.GetFromJsonAsync<List<Review>>(new Uri("/products/41/reviews", UriKind.Relative));

        Assert.NotEmpty(first!);
        Assert.Equal(first, second);
        Assert.Equal(loadsBefore + 1, store.ReviewLoads); // the factory ran once

        // HybridCache stored its payload in ZsCache under the same key, and, with its local cache
        // disabled, answered the second request by reading ZsCache's pool.
        Assert.NotNull(await _app.Cache.GetAsync(ReviewEndpoints.ReviewsKey(41)));
        Assert.True(_app.Cache.GetStatistics().PoolHits >= hitsBefore + 1, "the second read went to ZsCache");
    }
}
