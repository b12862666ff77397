using Microsoft.Extensions.Caching.Hybrid;
using ZsCache.Redis;
using ZsCache.Sample.Web.Cart;
using ZsCache.Sample.Web.Catalog;
using ZsCache.Sample.Web.Reviews;
using ZsCache.Sample.Web.Stats;
using ZsCache.Sample.Web.Writeback;

namespace ZsCache.Sample.Web;

/// <summary>
/// The sample's composition: ZsCache as the app's <c>IDistributedCache</c>, with Redis (or an
/// embedded Garnet server) as its writeback tier, and three ordinary users of it: the catalog's
/// response cache, session state and HybridCache.
/// </summary>
/// <remarks>
/// Configuration (appsettings.json, environment variables or command-line arguments):
/// <list type="bullet">
/// <item><description><c>ConnectionStrings:Redis</c> (env <c>ConnectionStrings__Redis</c>): a Redis to write back to.
/// Empty: an embedded Garnet server on a free loopback port is started instead.</description></item>
/// <item><description><c>Sample:Writeback</c>: <c>auto</c> (the rule above) or <c>none</c> (pool only: cold values are dropped).</description></item>
/// <item><description><c>ZsCache:*</c>: <see cref="ZsCacheOptions"/>; the sample's pool is 8 MiB so writeback shows within minutes.</description></item>
/// <item><description><c>Sample:Products</c>, <c>Sample:DatabaseLatencyMs</c>: the size of the fake catalog and the latency of its fake database.</description></item>
/// </list>
/// </remarks>
public static class SampleApp
{
    /// <summary>Builds the app from command-line arguments (and the usual configuration sources).</summary>
    /// <param name="args">The command line.</param>
    /// <returns>The app, not yet running.</returns>
    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        var tier = WritebackTier.Choose(builder.Configuration);

        // ---- ZsCache: the line that matters. With a writeback tier, one more call. ----
        var zscache = builder.Services.AddZsCache(builder.Configuration.GetSection("ZsCache"));
        if (tier.ConnectionString is { } redis)
        {
            zscache.AddRedisWriteback(r => r.Configuration = redis);
        }

        // ---- The cache's ordinary users. ----

        // 1. Session state: AddSession runs on whatever IDistributedCache is registered.
        builder.Services.AddSession(o =>
        {
            o.Cookie.Name = ".ZsCache.Sample.Session";
            o.Cookie.HttpOnly = true;
            o.Cookie.IsEssential = true;
            o.IdleTimeout = TimeSpan.FromMinutes(20);
        });

        // 2. HybridCache with ZsCache as its distributed (L2) tier, through IBufferDistributedCache.
        //    HybridCache keeps an in-memory L1 in front of any L2 but MemoryDistributedCache; ZsCache
        //    already is in-process memory, so an L1 would hold every value a second time,
        //    uncompressed and walked by the GC. DisableLocalCache by default avoids that.
        builder.Services.AddHybridCache(o =>
        {
            o.DefaultEntryOptions = new HybridCacheEntryOptions
            {
                Expiration = TimeSpan.FromMinutes(30),
                Flags = HybridCacheEntryFlags.DisableLocalCache,
            };
            o.MaximumPayloadBytes = 1024 * 1024;
        });

        // 3. The catalog, its reviews, and the stats page.
        builder.Services.AddSingleton<CatalogStore>();
        builder.Services.AddSingleton<ZsCacheMeterTotals>();
        // Registered by factory so the container disposes it, and resolved first below so it is
        // disposed last: an embedded Garnet stops only after ZsCache and its Redis connection.
        builder.Services.AddSingleton(_ => tier);

        var app = builder.Build();

        _ = app.Services.GetRequiredService<WritebackTier>();
        tier.AttachTo(app);
        _ = app.Services.GetRequiredService<ZsCacheMeterTotals>(); // listen from the first request on

        app.UseSession();
        app.MapGet("/", () => Results.Content(HomePage, "text/html; charset=utf-8"));
        app.MapCatalog();
        app.MapCart();
        app.MapReviews();
        app.MapZsCacheStats();
        return app;
    }

    private const string HomePage = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>ZsCache sample</title>
        <style>body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;line-height:1.5}code{background:#f3f3f3;padding:0 .2em}</style>
        </head><body>
        <h1>ZsCache sample</h1>
        <ul>
        <li><a href="/zscache">/zscache</a>: the cache's stats page (<a href="/zscache/stats">/zscache/stats</a> as JSON)</li>
        <li><a href="/products/1">/products/1</a>: a product, cached through <code>IDistributedCache</code> (header <code>X-Cache</code>)</li>
        <li><a href="/products?page=1">/products?page=1</a>: a page of the catalog, cached the same way</li>
        <li><a href="/products/1/reviews">/products/1/reviews</a>: reviews, cached by <code>HybridCache</code> with ZsCache as its L2</li>
        <li><a href="/cart">/cart</a>: a cart in session state (<code>POST /cart/{id}</code> adds a product)</li>
        </ul>
        <p>Drive it: <code>dotnet run --project samples/ZsCache.Sample.Web -- load --url http://127.0.0.1:5000 --seconds 60</code></p>
        </body></html>
        """;
}
