using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Caching.Distributed;

namespace ZsCache.Sample.Web.Catalog;

/// <summary>
/// The catalog's API, with its JSON responses cached through <see cref="IDistributedCache"/> the
/// way most apps do it: serialize once, store the bytes, serve the bytes. The <c>X-Cache</c>
/// response header says whether the cache answered (<c>hit</c>) or the database did (<c>miss</c>).
/// </summary>
internal static class CatalogEndpoints
{
    public const string CacheHeader = "X-Cache";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static readonly DistributedCacheEntryOptions ProductEntry = new()
    {
        AbsoluteExpirationRelativeToNow = TimeSpan.FromHours(1),
        SlidingExpiration = TimeSpan.FromMinutes(20),
    };

    private static readonly DistributedCacheEntryOptions PageEntry = new()
    {
        AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(5),
    };

    public static string ProductKey(int id) => string.Create(CultureInfo.InvariantCulture, $"product:{id}");

    public static string PageKey(int page) => string.Create(CultureInfo.InvariantCulture, $"products:page:{page}");

    public static void MapCatalog(this WebApplication app)
    {
        app.MapGet("/products/{id:int}", async (int id, IDistributedCache cache, CatalogStore store, HttpContext http, CancellationToken ct) =>
        {
            if (!store.Exists(id))
            {
                return Results.NotFound();
            }

            var key = ProductKey(id);
            var json = await cache.GetAsync(key, ct).ConfigureAwait(false);
            if (json is not null)
            {
                http.Response.Headers[CacheHeader] = "hit";
                return Results.Bytes(json, "application/json");
            }

            var product = await store.LoadProductAsync(id, ct).ConfigureAwait(false);
            json = JsonSerializer.SerializeToUtf8Bytes(product, Json);
            await cache.SetAsync(key, json, ProductEntry, ct).ConfigureAwait(false);
            http.Response.Headers[CacheHeader] = "miss";
            return Results.Bytes(json, "application/json");
        });

        app.MapGet("/products", async (int? page, IDistributedCache cache, CatalogStore store, HttpContext http, CancellationToken ct) =>
        {
            var number = page ?? 1;
            if (number < 1 || number > store.PageCount)
            {
                return Results.NotFound();
            }

            var key = PageKey(number);
            var json = await cache.GetAsync(key, ct).ConfigureAwait(false);
            if (json is not null)
            {
                http.Response.Headers[CacheHeader] = "hit";
                return Results.Bytes(json, "application/json");
            }

            var content = await store.LoadPageAsync(number, ct).ConfigureAwait(false);
            json = JsonSerializer.SerializeToUtf8Bytes(content, Json);
            await cache.SetAsync(key, json, PageEntry, ct).ConfigureAwait(false);
            http.Response.Headers[CacheHeader] = "miss";
            return Results.Bytes(json, "application/json");
        });

        // A write: change the price, then remove the cached copy. On ZsCache the Remove also fences
        // any older copy already written back to Redis, so no instance reads the old price again.
        app.MapPut("/products/{id:int}/price", async (int id, PriceChange change, IDistributedCache cache, CatalogStore store, CancellationToken ct) =>
        {
            if (!store.Exists(id))
            {
                return Results.NotFound();
            }

            if (change.Price <= 0)
            {
                return Results.BadRequest("price must be positive");
            }

            store.SetPrice(id, change.Price);
            await cache.RemoveAsync(ProductKey(id), ct).ConfigureAwait(false);
            return Results.NoContent();
        });

        app.MapGet("/products/count", (CatalogStore store) => Results.Json(new { count = store.ProductCount, pages = store.PageCount }));
    }
}

/// <summary>The body of <c>PUT /products/{id}/price</c>.</summary>
public sealed record PriceChange(decimal Price);
