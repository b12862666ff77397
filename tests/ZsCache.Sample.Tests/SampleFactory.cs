using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace ZsCache.Sample.Tests;

/// <summary>
/// The sample app under test. By default pool-only (<c>Sample:Writeback=none</c>), a small
/// catalog and no simulated database latency; tests override settings as they need. No external
/// Redis is ever used: writeback tests start the sample's embedded Garnet on a free port.
/// </summary>
public class SampleFactory : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Sample:Writeback"] = "none",
        ["Sample:Products"] = "2000",
        ["Sample:DatabaseLatencyMs"] = "0",
        ["ConnectionStrings:Redis"] = "",
        ["Urls"] = "http://127.0.0.1:0",
    };

    public SampleFactory(params (string Key, string? Value)[] settings)
    {
        foreach (var (key, value) in settings)
        {
            _settings[key] = value;
        }
    }

    /// <summary>Serves on a real loopback port (Kestrel on 127.0.0.1:0) instead of the in-memory TestServer.</summary>
    public SampleFactory WithKestrel()
    {
        UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        return this;
    }

    /// <summary>The address Kestrel bound, after <see cref="WithKestrel"/> and <c>StartServer</c>.</summary>
    public Uri ServerAddress =>
        new(Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

    public ZsDistributedCache Cache => Services.GetRequiredService<ZsDistributedCache>();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }
    }
}

/// <summary>The sample with the test defaults, as an xunit class fixture (one public constructor, no arguments).</summary>
public sealed class DefaultSampleFactory : SampleFactory
{
    public DefaultSampleFactory()
        : base([])
    {
    }
}
