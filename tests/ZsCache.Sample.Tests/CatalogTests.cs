using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using ZsCache.Sample.Web.Catalog;

namespace ZsCache.Sample.Tests;

public sealed class CatalogTests : IClassFixture<DefaultSampleFactory>
{
    private readonly SampleFactory _app;

    public CatalogTests(DefaultSampleFactory app) => _app = app;

    private CatalogStore Store => _app.Services.GetRequiredService<CatalogStore>();

    [Fact]
    public void The_apps_distributed_cache_is_ZsCache()
    {
        var cache = _app.Services.GetRequiredService<IDistributedCache>();
        Assert.IsType<ZsDistributedCache>(cache);
        Assert.Same(cache, _app.Services.GetRequiredService<IBufferDistributedCache>());
    }

    [Fact]
    public async Task Second_request_for_a_product_is_served_from_ZsCache_not_the_database()
    {
        using var client = _app.CreateClient();
        var loadsBefore = Store.ProductLoads;
        var hitsBefore = _app.Cache.GetStatistics().PoolHits;

        using var first = await client.GetAsync(new Uri("/products/17", UriKind.Relative));
        using var second = await client.GetAsync(new Uri("/products/17", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal("miss", Assert.Single(first.Headers.GetValues(CatalogEndpoints.CacheHeader)));
        Assert.Equal("hit", Assert.Single(second.Headers.GetValues(CatalogEndpoints.CacheHeader)));
        Assert.Equal(await first.Content.ReadAsByteArrayAsync(), await second.Content.ReadAsByteArrayAsync());

        // The database was read once; the second answer came out of the pool.
        Assert.Equal(loadsBefore + 1, Store.ProductLoads);
        Assert.True(_app.Cache.GetStatistics().PoolHits >= hitsBefore + 1);
        Assert.NotNull(await _app.Cache.GetAsync(CatalogEndpoints.ProductKey(17)));

        var product = await second.Content.ReadFromJsonAsync<Product>();
        Assert.Equal(17, product!.Id);
        Assert.Equal("application/json", second.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Catalog_pages_are_cached_too()
    {
        using var client = _app.CreateClient();
        var loadsBefore = Store.PageLoads;

        using var first = await client.GetAsync(new Uri("/products?page=3", UriKind.Relative));
        using var second = await client.GetAsync(new Uri("/products?page=3", UriKind.Relative));

        Assert.Equal("miss", Assert.Single(first.Headers.GetValues(CatalogEndpoints.CacheHeader)));
        Assert.Equal("hit", Assert.Single(second.Headers.GetValues(CatalogEndpoints.CacheHeader)));
        Assert.Equal(loadsBefore + 1, Store.PageLoads);
        var page = await second.Content.ReadFromJsonAsync<ProductPage>();
        Assert.Equal(3, page!.Page);
        Assert.Equal(CatalogStore.PageSize, page.Items.Count);
    }

    [Fact]
    public async Task A_price_change_removes_the_cached_copy()
    {
        using var client = _app.CreateClient();
        using (await client.GetAsync(new Uri("/products/23", UriKind.Relative)))
        {
        }

        using var put = await client.PutAsJsonAsync(new Uri("/products/23/price", UriKind.Relative), new PriceChange(12.34m));
        Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);

        using var after = await client.GetAsync(new Uri("/products/23", UriKind.Relative));
        Assert.Equal("miss", Assert.Single(after.Headers.GetValues(CatalogEndpoints.CacheHeader)));
        Assert.Equal(12.34m, (await after.Content.ReadFromJsonAsync<Product>())!.Price);
    }

    [Fact]
    public async Task Unknown_product_is_not_found()
    {
        using var client = _app.CreateClient();
        using var response = await client.GetAsync(new Uri("/products/999999", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
