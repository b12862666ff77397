using System.Globalization;
using System.Net;

namespace ZsCache.Sample.Web.Load;

/// <summary>The load command's options, parsed and checked: loopback only, bounded in time and requests.</summary>
internal sealed record LoadOptions(Uri Url, int Seconds, long MaxRequests, int Concurrency, double Skew, int Products)
{
    public const int MaxSeconds = 3600;
    public const long MaxRequestsLimit = 10_000_000;
    public const int MaxConcurrency = 64;

    public const string Usage = """
        usage: dotnet run --project samples/ZsCache.Sample.Web -- load [options]

          --url URL          the sample app (loopback only)         default http://127.0.0.1:5000
          --seconds N        stop after N seconds (1..3600)           default 60
          --requests N       stop after N requests (1..10,000,000)    default 2,000,000
          --concurrency N    requests in flight (1..64)               default 8
          --skew S           Zipf exponent; larger is more skewed     default 1.0
          --products N       ids to draw from (0: ask the app)        default 0

        Drives a Zipf-distributed mix against the app: product pages through IDistributedCache,
        reviews through HybridCache, catalog pages, session carts and the odd price change.
        Progress is printed every two seconds; watch /zscache in a browser meanwhile.
        """;

    /// <summary>Parses <paramref name="args"/>; on a mistake returns null and the reason.</summary>
    public static LoadOptions? Parse(IReadOnlyList<string> args, out string? error)
    {
        ArgumentNullException.ThrowIfNull(args);
        var url = "http://127.0.0.1:5000";
        int seconds = 60, concurrency = 8, products = 0;
        long requests = 2_000_000;
        var skew = 1.0;
        error = null;
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            if (name is "-h" or "--help")
            {
                error = "";
                return null;
            }

            if (i + 1 >= args.Count)
            {
                error = $"{name} needs a value";
                return null;
            }

            var value = args[++i];
            var ok = name switch
            {
                "--url" => (url = value) is not null,
                "--seconds" => int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out seconds),
                "--requests" => long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out requests),
                "--concurrency" => int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out concurrency),
                "--skew" => double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out skew),
                "--products" => int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out products),
                _ => false,
            };
            if (!ok)
            {
                error = $"unknown option or bad value: {name} {value}";
                return null;
            }
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            error = $"--url must be an http(s) URL: {url}";
            return null;
        }

        if (!IsLoopback(uri))
        {
            error = $"--url must point at this machine (localhost, 127.0.0.0/8 or [::1]); {uri.Host} is not loopback. The load generator only drives a local sample app.";
            return null;
        }

        if (seconds is < 1 or > MaxSeconds)
        {
            error = $"--seconds must be between 1 and {MaxSeconds}";
            return null;
        }

        if (requests is < 1 or > MaxRequestsLimit)
        {
            error = $"--requests must be between 1 and {MaxRequestsLimit}";
            return null;
        }

        if (concurrency is < 1 or > MaxConcurrency)
        {
            error = $"--concurrency must be between 1 and {MaxConcurrency}";
            return null;
        }

        if (skew is <= 0 or > 5 || double.IsNaN(skew))
        {
            error = "--skew must be above 0 and at most 5";
            return null;
        }

        if (products < 0)
        {
            error = "--products must not be negative";
            return null;
        }

        return new LoadOptions(uri, seconds, requests, concurrency, skew, products);
    }

    private static bool IsLoopback(Uri uri) =>
        uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
}
