using StackExchange.Redis;

namespace ZsCache.Sample.Web.Writeback;

/// <summary>
/// Which writeback tier the sample runs with, chosen from configuration at startup:
/// <c>ConnectionStrings:Redis</c> when set, else an embedded Garnet server; or none at all with
/// <c>Sample:Writeback=none</c>.
/// </summary>
public sealed class WritebackTier : IDisposable
{
    private readonly EmbeddedGarnet? _garnet;

    private WritebackTier(string kind, string? connectionString, string? endpoint, EmbeddedGarnet? garnet)
    {
        Kind = kind;
        ConnectionString = connectionString;
        Endpoint = endpoint;
        _garnet = garnet;
    }

    /// <summary><c>redis</c>, <c>embedded-garnet</c> or <c>none</c>.</summary>
    public string Kind { get; }

    /// <summary>The StackExchange.Redis configuration string to write back to; null for none.</summary>
    public string? ConnectionString { get; }

    /// <summary>The server's endpoints, for display (never the password).</summary>
    public string? Endpoint { get; }

    /// <summary>Reads the choice from configuration and, when needed, starts the embedded Garnet server.</summary>
    /// <param name="configuration">The app's configuration.</param>
    public static WritebackTier Choose(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var mode = configuration["Sample:Writeback"] ?? "auto";
        if (string.Equals(mode, "none", StringComparison.OrdinalIgnoreCase))
        {
            return new WritebackTier("none", null, null, null);
        }

        if (!string.Equals(mode, "auto", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"Sample:Writeback must be 'auto' or 'none'; it is '{mode}'.");
        }

        var redis = configuration.GetConnectionString("Redis");
        if (!string.IsNullOrWhiteSpace(redis))
        {
            var endpoints = ConfigurationOptions.Parse(redis).EndPoints.Select(e => e.ToString());
            return new WritebackTier("redis", redis, string.Join(",", endpoints), null);
        }

        var garnet = EmbeddedGarnet.Start(configuration.GetValue("Sample:GarnetPort", 0));
        return new WritebackTier("embedded-garnet", garnet.ConnectionString, garnet.ConnectionString, garnet);
    }

    /// <summary>Says which tier is in use in the log.</summary>
    /// <param name="app">The built app.</param>
    public void AttachTo(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("ZsCache.Sample");
        switch (Kind)
        {
            case "redis":
                Log.UsingRedis(logger, Endpoint ?? "?");
                break;
            case "embedded-garnet":
                Log.StartedGarnet(logger, Endpoint ?? "?");
                break;
            default:
                Log.PoolOnly(logger);
                break;
        }
    }

    public void Dispose() => _garnet?.Dispose();
}
