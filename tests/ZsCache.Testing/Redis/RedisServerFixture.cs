using System.Globalization;
using Garnet;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace ZsCache.Testing.Redis;

/// <summary>Which server a <see cref="RedisServerFixture"/> runs.</summary>
public enum RedisServerKind
{
    /// <summary>A real <c>redis-server</c> child process: it can be killed, restarted and paused.</summary>
    RedisServer,

    /// <summary>An embedded Garnet server (in this process), used when <c>redis-server</c> is not installed.</summary>
    Garnet,
}

/// <summary>
/// A Redis server of the test's own on a free loopback port: a <c>redis-server</c> child
/// process (no persistence, its own temporary directory) when one is on PATH, else an embedded
/// Garnet server. Use it as an xunit class fixture; every test class gets its own server, so
/// tests that kill or pause it disturb nobody else.
/// </summary>
/// <remarks>
/// Set the environment variable <c>ZSCACHE_TEST_SERVER</c> to <c>garnet</c> to use Garnet even
/// when <c>redis-server</c> is installed; <see cref="GarnetServerFixture"/> always does. Tests
/// that need a real process (kill, restart, pause) call <see cref="SkipUnlessProcess"/> first.
/// </remarks>
public class RedisServerFixture : IAsyncLifetime
{
    private const int PortAttempts = 5;

    private readonly IMessageSink? _diagnostics;
    private readonly bool _garnetOnly;
    private string? _directory;
    private RedisServerProcess? _process;
    private GarnetServer? _garnet;

    /// <summary>Creates the fixture; the server starts in <see cref="InitializeAsync"/>.</summary>
    /// <param name="diagnostics">xunit's diagnostic sink (injected by xunit).</param>
    public RedisServerFixture(IMessageSink diagnostics)
        : this(diagnostics, garnetOnly: false)
    {
    }

    /// <summary>Creates the fixture, optionally running Garnet whatever is installed.</summary>
    /// <param name="diagnostics">xunit's diagnostic sink.</param>
    /// <param name="garnetOnly">True to run the embedded Garnet server even when <c>redis-server</c> is on PATH.</param>
    protected RedisServerFixture(IMessageSink diagnostics, bool garnetOnly)
    {
        _diagnostics = diagnostics;
        _garnetOnly = garnetOnly;
    }

    /// <summary>redis-server options beyond the fixture's own (a restart keeps them).</summary>
    protected virtual IReadOnlyList<string> ExtraServerArgs => [];

    /// <summary>The server this fixture runs.</summary>
    public RedisServerKind Kind { get; private set; }

    /// <summary>The loopback port the server listens on.</summary>
    public int Port { get; private set; }

    /// <summary>A StackExchange.Redis configuration string for the server.</summary>
    public string ConnectionString => $"127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The redis-server process id while it runs; null for Garnet or after <see cref="KillAsync"/>.</summary>
    public int? ProcessId => _process?.ProcessId;

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        var choice = Environment.GetEnvironmentVariable("ZSCACHE_TEST_SERVER");
        var executable = RedisServerProcess.FindOnPath("redis-server");
        if (executable is not null && !_garnetOnly && !string.Equals(choice, "garnet", StringComparison.OrdinalIgnoreCase))
        {
            Kind = RedisServerKind.RedisServer;
            _directory = Directory.CreateTempSubdirectory("zscache-redis-").FullName;
            for (var attempt = 1; ; attempt++)
            {
                Port = FreePorts.Next();
                // DEBUG (SLEEP, ...) is refused by Redis 7 unless enabled; "local" allows it from loopback only.
                _process = new RedisServerProcess(executable, Port, _directory, ["--enable-debug-command", "local", .. ExtraServerArgs]);
                try
                {
                    await _process.StartAsync().ConfigureAwait(false);
                    break;
                }
                catch (InvalidOperationException) when (attempt < PortAttempts)
                {
                    // Most likely someone took the port between our probe and the bind: another port.
                }
            }

            Say($"RedisServerFixture: redis-server pid {ProcessId} on {ConnectionString}");
            return;
        }

        Kind = RedisServerKind.Garnet;
        for (var attempt = 1; ; attempt++)
        {
            Port = FreePorts.Next();
            try
            {
                _garnet = StartGarnet(Port);
                break;
            }
            catch (Exception) when (attempt < PortAttempts)
            {
                // Port taken meanwhile: another one.
            }
        }

        Say(_garnetOnly
            ? $"{GetType().Name}: embedded Garnet on {ConnectionString}"
            : executable is null
                ? $"RedisServerFixture: redis-server is not on PATH; using embedded Garnet on {ConnectionString} (kill/restart/pause tests will skip)"
                : $"RedisServerFixture: ZSCACHE_TEST_SERVER=garnet; using embedded Garnet on {ConnectionString}");
    }

    private static GarnetServer StartGarnet(int port)
    {
        string[] args =
        [
            "--port", port.ToString(CultureInfo.InvariantCulture),
            "--bind", "127.0.0.1",
            "--lua", "true",
            // Small: tests hold kilobytes to a few MiB.
            "--memory", "128m",
            "--index", "1m",
            "--logger-level", "Error",
        ];
        var server = new GarnetServer(args);
        try
        {
            server.Start();
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>Skips the calling test unless the server is a real <c>redis-server</c> process.</summary>
    public void SkipUnlessProcess() =>
        Skip.If(Kind != RedisServerKind.RedisServer,
            "Needs a real redis-server process (kill/restart/pause); this fixture runs the embedded Garnet server instead (redis-server is not on PATH, or ZSCACHE_TEST_SERVER=garnet).");

    /// <summary>Kills the redis-server process by its process id and waits for it to exit.</summary>
    public Task KillAsync() => RequireProcess().KillAsync();

    /// <summary>Starts redis-server again on the same port and waits (bounded) until it answers PING.</summary>
    public Task StartAsync() => RequireProcess().StartAsync();

    /// <summary>Pauses every client of the server for <paramref name="duration"/> (<c>CLIENT PAUSE</c>).</summary>
    public async Task PauseAsync(TimeSpan duration)
    {
        RequireProcess();
        await ExecuteAsync("CLIENT", "PAUSE", ((long)duration.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs one command on a fresh connection and returns its reply as text (arrays joined by
    /// newlines; nil as null); an error reply throws <see cref="InvalidOperationException"/>.
    /// For example <c>ExecuteAsync("CONFIG", "SET", "maxmemory", "1mb")</c>.
    /// </summary>
    public async Task<string?> ExecuteAsync(params string[] args)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var connection = await RespConnection.ConnectAsync(Port, timeout.Token).ConfigureAwait(false);
        return await connection.ExecuteAsync(args, timeout.Token).ConfigureAwait(false);
    }

    private RedisServerProcess RequireProcess() =>
        _process ?? throw new InvalidOperationException("Only a redis-server process can be killed, restarted or paused; call SkipUnlessProcess() first.");

    private void Say(string message) => _diagnostics?.OnMessage(new DiagnosticMessage(message));

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync().ConfigureAwait(false);
        }

        _garnet?.Dispose();
        if (_directory is not null)
        {
            try
            {
                Directory.Delete(_directory, recursive: true);
            }
            catch (IOException)
            {
                // Best effort: a temp directory left behind is harmless.
            }
        }
    }
}
