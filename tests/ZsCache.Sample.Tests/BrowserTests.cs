using Microsoft.Playwright;

namespace ZsCache.Sample.Tests;

/// <summary>
/// The stats page in a real browser: Debian's headless Chromium, driven by Playwright against the
/// installed browser (never a downloaded one), loading <c>/zscache</c> from the sample bound to a
/// real loopback port. Skipped, with the reason, where <c>/usr/bin/chromium</c> is missing.
/// </summary>
public sealed class BrowserTests
{
    private const string ChromiumPath = "/usr/bin/chromium";

    /// <summary>Set to 1 to copy the screenshot over <c>docs/stats-page.png</c> in the source tree.</summary>
    private const string UpdateDocsVariable = "ZSCACHE_UPDATE_DOCS_SCREENSHOT";

    private static readonly string[] ChromiumArgs =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ];

    [SkippableFact]
    public async Task Stats_page_fills_its_size_class_table_as_values_are_stored()
    {
        Skip.IfNot(File.Exists(ChromiumPath),
            $"No Chromium at {ChromiumPath}: this browser test drives the installed browser and never downloads one (install Debian's 'chromium' package; CI's .ci/run does).");

        // As a new user runs it: an 8 MiB pool writing back to the embedded Garnet (on a free port).
        await using var app = new SampleFactory(("Sample:Writeback", "auto"), ("ZsCache:MaxPoolBytes", "8388608")).WithKestrel();
        app.StartServer();
        var baseUrl = app.ServerAddress;

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ChromiumArgs,
            Timeout = 60_000,
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 1100 } });
        page.SetDefaultTimeout(30_000);

        await page.GotoAsync(new Uri(baseUrl, "/zscache").ToString());
        await page.WaitForFunctionAsync("() => document.getElementById('updated').textContent !== 'never'");
        Assert.Equal(0, await page.Locator("#classes tbody tr.class-row").CountAsync());
        Assert.True(await page.Locator("#classes-empty").IsVisibleAsync());
        Assert.StartsWith("writeback: embedded Garnet 127.0.0.1:", await page.Locator("#tier").TextContentAsync(), StringComparison.Ordinal);

        // Store values through the app as its users would (products, pages, reviews) and watch
        // the page, which refreshes itself, show the classes they went to: first a few, then more.
        using var http = new HttpClient { BaseAddress = baseUrl };
        await StoreAsync(http, 1, 20);
        var early = await WaitForRowsAsync(page, app);
        await StoreAsync(http, 21, 2000); // the whole test catalog
        for (var round = 0; round < 3; round++)
        {
            for (var id = 1; id <= 600; id++)
            {
                await GetOkAsync(http, $"/products/{id}");
            }
        }

        var later = await WaitForRowsAsync(page, app);
        Assert.True(early >= 3, $"20 products of varied sizes use several classes ({early})");
        Assert.True(later > early, $"more values, more classes in use ({early}, then {later})");

        Assert.False(await page.Locator("#classes-empty").IsVisibleAsync());
        Assert.True(app.Cache.GetStatistics().EntriesWrittenBack > 0, "2,000 products do not fit in 8 MiB: the cold ones went to Garnet");
        Assert.NotEqual("0", await page.Locator("#wb-objects").TextContentAsync());
        Assert.NotEqual("0", await page.Locator("#fault-ins").TextContentAsync());
        Assert.EndsWith("×", await page.Locator("#ratio").TextContentAsync(), StringComparison.Ordinal);
        Assert.NotEqual("–", await page.Locator("#pool-bytes").TextContentAsync());
        Assert.EndsWith("% hits", await page.Locator("#hit-ratio").TextContentAsync(), StringComparison.Ordinal);
        Assert.Equal("", await page.Locator("#error").TextContentAsync());

        var screenshot = Path.Combine(AppContext.BaseDirectory, "artifacts", "stats-page.png");
        Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot });
        Assert.True(new FileInfo(screenshot).Length > 10_000);

        if (Environment.GetEnvironmentVariable(UpdateDocsVariable) == "1" && FindRepositoryRoot() is { } root)
        {
            File.Copy(screenshot, Path.Combine(root, "docs", "stats-page.png"), overwrite: true);
        }
    }

    private static async Task StoreAsync(HttpClient http, int first, int last)
    {
        for (var id = first; id <= last; id++)
        {
            await GetOkAsync(http, $"/products/{id}");
            if (id % 10 == 0)
            {
                await GetOkAsync(http, $"/products/{id}/reviews");
            }

            if (id % 40 == 0)
            {
                await GetOkAsync(http, $"/products?page={id / 40}");
            }
        }
    }

    private static async Task GetOkAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(new Uri(path, UriKind.Relative));
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode}");
    }

    /// <summary>
    /// Waits until the page (refreshing itself each second) shows one row per class in use, as the
    /// cache counts them at that moment; returns that number.
    /// </summary>
    private static async Task<int> WaitForRowsAsync(IPage page, SampleFactory app)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var statistics = app.Cache.GetStatistics();
            var inUse = statistics.Classes.Count(c => c.Zspages > 0);
            var shown = await page.Locator("#classes tbody tr.class-row").CountAsync();
            var objects = await ObjectsShownAsync(page);
            if (shown == inUse && inUse > 0 && objects == statistics.EntriesInPool)
            {
                return inUse;
            }

            Assert.True(DateTime.UtcNow < deadline,
                $"the page shows {shown} classes and {objects} objects; the cache has {inUse} classes in use and {statistics.EntriesInPool} entries");
            await Task.Delay(200);
        }
    }

    /// <summary>The sum of the table's "objects used" column.</summary>
    private static async Task<long> ObjectsShownAsync(IPage page)
    {
        var total = 0L;
        foreach (var text in await page.Locator("#classes tbody tr.class-row td:nth-child(3)").AllTextContentsAsync())
        {
            total += long.Parse(text.Replace(",", "", StringComparison.Ordinal), System.Globalization.CultureInfo.InvariantCulture);
        }

        return total;
    }

    private static string? FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ZsCache.sln")))
            {
                return dir.FullName;
            }
        }

        return null;
    }
}
