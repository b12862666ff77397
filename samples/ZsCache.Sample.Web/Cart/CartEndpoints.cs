using System.Text.Json;

namespace ZsCache.Sample.Web.Cart;

/// <summary>
/// A shopping cart in ASP.NET Core session state. <c>AddSession</c> stores sessions in whatever
/// <c>IDistributedCache</c> is registered, here ZsCache: each session is one small value (a
/// few hundred bytes), and idle sessions are written back to Redis instead of lost.
/// </summary>
internal static class CartEndpoints
{
    private const string CartKey = "cart";

    public static void MapCart(this WebApplication app)
    {
        app.MapGet("/cart", async (HttpContext http) =>
        {
            // Load asynchronously: the session would otherwise load synchronously on first access.
            await http.Session.LoadAsync(http.RequestAborted).ConfigureAwait(false);
            return Results.Json(new CartContents(http.Session.Id, Read(http.Session)));
        });

        app.MapPost("/cart/{productId:int}", async (int productId, HttpContext http, Catalog.CatalogStore store) =>
        {
            if (!store.Exists(productId))
            {
                return Results.NotFound();
            }

            await http.Session.LoadAsync(http.RequestAborted).ConfigureAwait(false);
            var items = Read(http.Session);
            items.Add(productId);
            http.Session.Set(CartKey, JsonSerializer.SerializeToUtf8Bytes(items));
            return Results.Json(new CartContents(http.Session.Id, items));
        });

        app.MapDelete("/cart", async (HttpContext http) =>
        {
            await http.Session.LoadAsync(http.RequestAborted).ConfigureAwait(false);
            http.Session.Remove(CartKey);
            return Results.NoContent();
        });
    }

    private static List<int> Read(ISession session) =>
        session.TryGetValue(CartKey, out var bytes) ? JsonSerializer.Deserialize<List<int>>(bytes) ?? [] : [];
}

/// <summary>What <c>/cart</c> returns.</summary>
public sealed record CartContents(string SessionId, IReadOnlyList<int> Items);
