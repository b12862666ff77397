using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using ZsCache.Sample.Web.Stats;

namespace ZsCache.Sample.Web.Load;

/// <summary>
/// <c>dotnet run --project samples/ZsCache.Sample.Web -- load --url http://127.0.0.1:5000 --seconds 60</c>:
/// drives a Zipf-distributed workload against a running sample app, so its pool fills, writes back
/// and faults in while you watch <c>/zscache</c>. Loopback only; stops after the given time or
/// number of requests, or on Ctrl+C.
/// </summary>
/// <remarks>
/// The mix, per request: 80 % a product (<c>IDistributedCache</c>), 8 % its reviews (HybridCache),
/// 6 % a catalog page, 5 % add to a cart (session state; one session per worker), 1 % a price change
/// (a <c>Remove</c>). Ids are drawn by Zipf's law, so a few hundred products are hot and a long tail is
/// read now and then.
/// </remarks>
internal static class LoadCommand
{
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(2);

    public static async Task<int> RunAsync(string[] args, TextWriter? output = null, CancellationToken cancellationToken = default)
    {
        output ??= Console.Out;
        var options = LoadOptions.Parse(args, out var error);
        if (options is null)
        {
            if (!string.IsNullOrEmpty(error))
            {
                await output.WriteLineAsync("load: " + error).ConfigureAwait(false);
            }

            await output.WriteLineAsync(LoadOptions.Usage).ConfigureAwait(false);
            return string.IsNullOrEmpty(error) ? 0 : 2;
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            return await RunAsync(options, output, stop).ConfigureAwait(false);
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    private static async Task<int> RunAsync(LoadOptions options, TextWriter output, CancellationTokenSource stop)
    {
        using var probe = NewClient(options.Url, cookies: false);
        int products, pages;
        try
        {
            var count = await probe.GetFromJsonAsync<CatalogCount>("/products/count", stop.Token).ConfigureAwait(false)
                ?? throw new HttpRequestException("empty answer from /products/count");
            products = options.Products > 0 ? Math.Min(options.Products, count.Count) : count.Count;
            pages = count.Pages;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
        {
            await output.WriteLineAsync($"load: cannot reach the sample app at {options.Url} ({e.Message}). Start it first: dotnet run --project samples/ZsCache.Sample.Web").ConfigureAwait(false);
            return 1;
        }

        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"load: {options.Url} for {options.Seconds} s or {options.MaxRequests:N0} requests, {options.Concurrency} in flight, Zipf s={options.Skew} over {products:N0} products")).ConfigureAwait(false);

        var productIds = new ZipfSampler(products, options.Skew);
        var pageNumbers = new ZipfSampler(pages, options.Skew, seed: 7);
        var counters = new LoadCounters();
        stop.CancelAfter(TimeSpan.FromSeconds(options.Seconds));
        var clock = Stopwatch.StartNew();

        var workers = new Task[options.Concurrency];
        for (var w = 0; w < workers.Length; w++)
        {
            var seed = 1000 + w;
            workers[w] = Task.Run(() => WorkAsync(options, productIds, pageNumbers, counters, seed, stop.Token));
        }

        var all = Task.WhenAll(workers);
        while (!all.IsCompleted)
        {
            await Task.WhenAny(all, Task.Delay(ProgressInterval, CancellationToken.None)).ConfigureAwait(false);
            var stats = await TryGetStatsAsync(probe).ConfigureAwait(false);
            await output.WriteLineAsync(counters.Progress(clock.Elapsed, stats)).ConfigureAwait(false);
        }

        await all.ConfigureAwait(false);
        var final = await TryGetStatsAsync(probe).ConfigureAwait(false);
        await output.WriteLineAsync("load: done. " + counters.Progress(clock.Elapsed, final)).ConfigureAwait(false);
        return counters.Requests > 0 && counters.Errors == counters.Requests ? 1 : 0;
    }

    private static async Task WorkAsync(LoadOptions options, ZipfSampler productIds, ZipfSampler pageNumbers, LoadCounters counters, int seed, CancellationToken stop)
    {
        var random = new Random(seed);
        using var client = NewClient(options.Url, cookies: true); // one session (cart) per worker
        while (!stop.IsCancellationRequested && counters.TakeTicket() <= options.MaxRequests)
        {
            var roll = random.Next(100);
            var id = productIds.Next(random).ToString(CultureInfo.InvariantCulture);
            using var request = roll switch
            {
                < 80 => new HttpRequestMessage(HttpMethod.Get, $"/products/{id}"),
                < 88 => new HttpRequestMessage(HttpMethod.Get, $"/products/{id}/reviews"),
                < 94 => new HttpRequestMessage(HttpMethod.Get, $"/products?page={pageNumbers.Next(random).ToString(CultureInfo.InvariantCulture)}"),
                < 99 => new HttpRequestMessage(HttpMethod.Post, $"/cart/{id}"),
                _ => new HttpRequestMessage(HttpMethod.Put, $"/products/{id}/price")
                {
                    Content = JsonContent.Create(new Catalog.PriceChange(Math.Round((decimal)(random.NextDouble() * 300) + 1, 2))),
                },
            };
            try
            {
                using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, stop).ConfigureAwait(false);
                counters.Completed(response);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                counters.Failed();
            }
        }
    }

    private static async Task<StatsResponse?> TryGetStatsAsync(HttpClient client)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            return await client.GetFromJsonAsync<StatsResponse>("/zscache/stats", timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
        {
            return null;
        }
    }

    private static HttpClient NewClient(Uri baseAddress, bool cookies)
    {
#pragma warning disable CA2000 // the client owns and disposes the handler
        var handler = new SocketsHttpHandler
        {
            UseCookies = cookies,
            CookieContainer = new CookieContainer(),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            UseProxy = false, // loopback only: never through a proxy
        };
#pragma warning restore CA2000
        return new HttpClient(handler, disposeHandler: true) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    private sealed record CatalogCount(int Count, int Pages);

    /// <summary>What the workers did, for the progress line.</summary>
    private sealed class LoadCounters
    {
        private long _tickets;
        private long _requests;
        private long _errors;
        private long _hits;
        private long _misses;
        private long _lastRequests;
        private TimeSpan _lastElapsed;

        public long Requests => Interlocked.Read(ref _requests);

        public long Errors => Interlocked.Read(ref _errors);

        public long TakeTicket() => Interlocked.Increment(ref _tickets);

        public void Completed(HttpResponseMessage response)
        {
            Interlocked.Increment(ref _requests);
            if ((int)response.StatusCode >= 500)
            {
                Interlocked.Increment(ref _errors);
            }

            if (response.Headers.TryGetValues(Catalog.CatalogEndpoints.CacheHeader, out var values))
            {
                if (values.FirstOrDefault() == "hit")
                {
                    Interlocked.Increment(ref _hits);
                }
                else
                {
                    Interlocked.Increment(ref _misses);
                }
            }
        }

        public void Failed()
        {
            Interlocked.Increment(ref _requests);
            Interlocked.Increment(ref _errors);
        }

        public string Progress(TimeSpan elapsed, StatsResponse? stats)
        {
            var requests = Requests;
            var window = (elapsed - _lastElapsed).TotalSeconds;
            var rate = window > 0 ? (requests - _lastRequests) / window : 0;
            _lastRequests = requests;
            _lastElapsed = elapsed;
            var hits = Interlocked.Read(ref _hits);
            var lookups = hits + Interlocked.Read(ref _misses);
            var line = new StringBuilder();
            line.Append(CultureInfo.InvariantCulture, $"[{elapsed.TotalSeconds,4:F0}s] {requests,9:N0} req {rate,7:N0}/s | catalog hits {(lookups == 0 ? 0 : 100.0 * hits / lookups),5:F1}%");
            if (stats is not null)
            {
                line.Append(CultureInfo.InvariantCulture,
                    $" | pool {Mib(stats.Pool.Bytes):F1}/{Mib(stats.Pool.Limit):F1} MiB ({stats.Pool.CompressionRatio:F2}x, {stats.Entries.Pool:N0} entries)");
                line.Append(CultureInfo.InvariantCulture,
                    $" | written back {stats.Writebacks.Objects:N0} | fault-ins {stats.Writebacks.FaultIns:N0} | dropped {stats.Evictions.Shrink + stats.Evictions.Capacity:N0}");
            }
            else
            {
                line.Append(" | stats unavailable");
            }

            line.Append(CultureInfo.InvariantCulture, $" | errors {Errors:N0}");
            return line.ToString();
        }

        private static double Mib(long bytes) => bytes / (1024.0 * 1024.0);
    }
}
