using System.Text.Json;
using ZsCache.Sample.Web.Load;

namespace ZsCache.Sample.Tests;

public sealed class LoadCommandTests
{
    [Theory]
    [InlineData("http://10.0.0.5:5000")]
    [InlineData("http://example.com")]
    [InlineData("http://192.168.1.1:5000")]
    public void The_load_generator_refuses_anything_but_loopback(string url)
    {
        Assert.Null(LoadOptions.Parse(["--url", url], out var error));
        Assert.Contains("loopback", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--seconds", "0")]
    [InlineData("--seconds", "3601")]
    [InlineData("--requests", "0")]
    [InlineData("--concurrency", "65")]
    [InlineData("--skew", "0")]
    public void The_load_generator_is_bounded(string name, string value)
    {
        Assert.Null(LoadOptions.Parse([name, value], out var error));
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Fact]
    public void Defaults_are_the_readme_command()
    {
        var options = LoadOptions.Parse(["--url", "http://127.0.0.1:5000", "--seconds", "60"], out _);
        Assert.NotNull(options);
        Assert.Equal(new Uri("http://127.0.0.1:5000"), options.Url);
        Assert.Equal(60, options.Seconds);
        Assert.NotNull(LoadOptions.Parse(["--url", "http://localhost:5000"], out _));
        Assert.NotNull(LoadOptions.Parse(["--url", "http://[::1]:5000"], out _));
    }

    [Fact]
    public void Zipf_draws_favour_a_few_hot_ids()
    {
        var zipf = new ZipfSampler(10_000, 1.0);
        var random = new Random(1);
        var counts = new Dictionary<int, int>();
        for (var i = 0; i < 100_000; i++)
        {
            var id = zipf.Next(random);
            Assert.InRange(id, 1, 10_000);
            counts[id] = counts.GetValueOrDefault(id) + 1;
        }

        // With s = 1 over 10,000 ids, the top 1 % of ids take about half the draws.
        var top = counts.Values.OrderByDescending(c => c).Take(100).Sum();
        Assert.InRange(top, 40_000, 65_000);
        Assert.True(counts.Count > 3_000, "the tail is read now and then");
    }

    [Fact]
    public async Task The_load_command_drives_the_app_on_a_real_port_and_stops_at_its_request_bound()
    {
        await using var app = new SampleFactory(("ZsCache:MaxPoolBytes", "2097152")).WithKestrel();
        app.StartServer();
        var url = app.ServerAddress;
        using var output = new StringWriter();

        var exit = await LoadCommand.RunAsync(["--url", url.ToString(), "--seconds", "60", "--requests", "400", "--concurrency", "4"], output);

        var text = output.ToString();
        Assert.Equal(0, exit);
        Assert.Contains("load: done.", text, StringComparison.Ordinal);
        Assert.Contains("errors 0", text, StringComparison.Ordinal);
        var statistics = app.Cache.GetStatistics();
        Assert.True(statistics.PoolHits + statistics.Misses >= 300, "the app saw the requests");

        using var http = new HttpClient { BaseAddress = url };
        using var json = JsonDocument.Parse(await http.GetStringAsync(new Uri("/zscache/stats", UriKind.Relative)));
        Assert.True(json.RootElement.GetProperty("entries").GetProperty("pool").GetInt64() > 0);
    }

    [Fact]
    public async Task The_load_command_says_so_when_the_app_is_not_running()
    {
        using var output = new StringWriter();
        var exit = await LoadCommand.RunAsync(["--url", "http://127.0.0.1:9", "--seconds", "5"], output);
        Assert.Equal(1, exit);
        Assert.Contains("cannot reach the sample app", output.ToString(), StringComparison.Ordinal);
    }
}
