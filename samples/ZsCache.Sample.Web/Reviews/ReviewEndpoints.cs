using System.Globalization;
using Microsoft.Extensions.Caching.Hybrid;
using ZsCache.Sample.Web.Catalog;

namespace ZsCache.Sample.Web.Reviews;

/// <summary>
/// Reviews served through <see cref="HybridCache"/>: its stampede protection and serialization,
/// with ZsCache as the distributed tier (HybridCache finds it as <c>IBufferDistributedCache</c>
/// and uses its buffer API). The default entry options set in <c>SampleApp</c> disable
/// HybridCache's local (L1) cache, so each value lives once, compressed, in ZsCache.
/// </summary>
internal static class ReviewEndpoints
{
    public static string ReviewsKey(int id) => string.Create(CultureInfo.InvariantCulture, $"reviews:{id}");

    public static void MapReviews(this WebApplication app)
    {
        app.MapGet("/products/{id:int}/reviews", async (int id, HybridCache cache, CatalogStore store, CancellationToken ct) =>
        {
            if (!store.Exists(id))
            {
                return Results.NotFound();
            }

            var reviews = await cache.GetOrCreateAsync(
                ReviewsKey(id),
                (store, id),
                static async (state, token) => await state.store.LoadReviewsAsync(state.id, token).ConfigureAwait(false),
                cancellationToken: ct).ConfigureAwait(false);
            return Results.Json(reviews);
        });
    }
}
