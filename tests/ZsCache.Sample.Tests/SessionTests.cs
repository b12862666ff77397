using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using ZsCache.Sample.Web.Cart;

namespace ZsCache.Sample.Tests;

public sealed class SessionTests : IClassFixture<DefaultSampleFactory>
{
    private readonly SampleFactory _app;

    public SessionTests(DefaultSampleFactory app) => _app = app;

    [Fact]
    public async Task A_cart_in_session_state_round_trips_through_ZsCache()
    {
        using var alice = _app.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = true });
        using var bob = _app.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = true });
        var entriesBefore = _app.Cache.GetStatistics().EntriesInPool;

        using (var added = await alice.PostAsync(new Uri("/cart/3", UriKind.Relative), null))
        {
            added.EnsureSuccessStatusCode();
            Assert.Contains(added.Headers.GetValues("Set-Cookie"), c => c.StartsWith(".ZsCache.Sample.Session=", StringComparison.Ordinal));
        }

        // The session was committed to the distributed cache, ZsCache: one more entry in its pool.
        Assert.Equal(entriesBefore + 1, _app.Cache.GetStatistics().EntriesInPool);

        (await alice.PostAsync(new Uri("/cart/7", UriKind.Relative), null)).Dispose();
        var hitsBefore = _app.Cache.GetStatistics().PoolHits;
        var cart = await alice.GetFromJsonAsync<CartContents>(new Uri("/cart", UriKind.Relative));

        Assert.Equal([3, 7], cart!.Items);
        Assert.True(_app.Cache.GetStatistics().PoolHits > hitsBefore, "the session was read back from ZsCache");

        var other = await bob.GetFromJsonAsync<CartContents>(new Uri("/cart", UriKind.Relative));
        Assert.Empty(other!.Items);
        Assert.NotEqual(cart.SessionId, other.SessionId);
    }
}
